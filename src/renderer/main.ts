import { mount } from 'svelte';

import App from './App.svelte';
import './app.css';
import { SoftphoneStore } from './state/softphone.svelte';

const appRoot = document.getElementById('app');
const audioContainer = document.getElementById('remote-audio');
if (!appRoot || !audioContainer) throw new Error('index.html is missing #app or #remote-audio');

const store = new SoftphoneStore(window.softphone, audioContainer);
const started = store.init().catch((error: unknown) => console.error('The softphone failed to start', error));

// When the bridge already has the start-up state, the line starts before the
// first render, so the WebSocket handshake runs while the window renders. The
// render waits for that at most until the next task.
const nextTask = new Promise((resolve) => setTimeout(resolve, 0));
await Promise.race([started, nextTask]);
mount(App, { target: appRoot, props: { store } });
