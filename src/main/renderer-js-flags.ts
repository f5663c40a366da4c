/**
 * V8 flags for the renderer processes, the value of Chromium's `js-flags` switch.
 * They turn off V8's optimizing compilers, TurboFan and Maglev, so the Ignition
 * interpreter and the Sparkplug baseline compiler run the renderer's JavaScript.
 *
 * - Security: the renderer parses SIP messages from the network in JavaScript.
 *   Google estimates that turning the optimizing compilers off would have
 *   blocked about half of the exploited V8 bugs it patched. Chrome on Android
 *   turns them off in its Advanced Protection mode for that reason.
 * - Memory: the machine code they compile grew as calls repeated. With them
 *   on, the renderer's JS heap grew about 10 % over 190 short calls on the
 *   bench. With them off, it grew under 2 %, and the idle renderer's resident
 *   memory was 6 MB smaller.
 * - Speed: the renderer does little work per call, a few SIP messages and a
 *   re-render. On the bench, registration and idle CPU did not change, and
 *   INVITE → Established took about 4 ms longer. Parsing a SIP message took
 *   1-2.5 ms more.
 */
export const RENDERER_JS_FLAGS = '--no-turbofan --no-maglev';

/**
 * Returns the `js-flags` value for the renderers: RENDERER_JS_FLAGS followed by
 * the flags from the app's command line. V8 applies flags in order, so a flag
 * from the command line wins.
 */
export function rendererJsFlags(commandLineFlags: string): string {
  const extraFlags = commandLineFlags.trim();
  return extraFlags === '' ? RENDERER_JS_FLAGS : `${RENDERER_JS_FLAGS} ${extraFlags}`;
}
