import { mount } from 'svelte';

import App from './App.svelte';
import './app.css';
import { SoftphoneStore } from './state/softphone.svelte';

const appRoot = document.getElementById('app');
const audioContainer = document.getElementById('remote-audio');
if (!appRoot || !audioContainer) throw new Error('index.html is missing #app or #remote-audio');

const store = new SoftphoneStore(window.softphone, audioContainer);
mount(App, { target: appRoot, props: { store } });
void store.init();
