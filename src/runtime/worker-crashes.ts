// In a worker: an error the app leaves uncaught (a throw, a rejected promise nobody handles) reaches
// the course without a listener the app could count. Node calls an uncaught-exception capture
// callback in place of the 'uncaughtException' event (after 'uncaughtExceptionMonitor'), so
// process.listenerCount('uncaughtException'), process.eventNames() and friends read as in a plain
// Node process. The callback hands the error to the app's own listeners, or to the app's own
// capture callback, when it has any, as Node would; otherwise the worker ends, reporting it.
import { cloak } from './cloak.ts';

export function reportUncaught(fatal: (error: unknown) => void): void {
  type Capture = ((error: unknown) => void) | null;
  const realSet = process.setUncaughtExceptionCaptureCallback;
  const realHas = process.hasUncaughtExceptionCaptureCallback;
  /** The app's own capture callback, if it set one. */
  let appCapture: Capture = null;
  realSet((error) => {
    if (appCapture) return appCapture(error);
    // (process.emit: an app's listener added with process.on gets the error, as from Node)
    if (process.listenerCount('uncaughtException') > 0) (process as NodeJS.EventEmitter).emit('uncaughtException', error, 'uncaughtException');
    else fatal(error);
  });
  process.setUncaughtExceptionCaptureCallback = cloak(function setUncaughtExceptionCaptureCallback(this: unknown, fn: Capture) {
    // Node's own checks and errors: not a function, or one set already (the course's is, so Node throws as it would for the app's second).
    if ((fn !== null && typeof fn !== 'function') || (fn !== null && appCapture !== null)) return Reflect.apply(realSet, this, [fn]) as void;
    appCapture = fn;
  }, realSet) as typeof realSet;
  process.hasUncaughtExceptionCaptureCallback = cloak(function hasUncaughtExceptionCaptureCallback() {
    return appCapture !== null;
  }, realHas) as typeof realHas;
}
