// A machine whose clock is set to another moment, as `date -s` would set it: loaded with
// `node --import <this file>?offset=MS`, it moves what Date reads by MS milliseconds and leaves
// timers alone, so time flows at its real pace from there. Used to let a lesson's 03:00 job
// come round a few seconds after its processes start.
const offset = Number(new URL(import.meta.url).searchParams.get('offset') ?? 0);
const RealDate = Date;

function MachineDate(...args) {
  if (!new.target) return new RealDate(RealDate.now() + offset).toString();
  return args.length === 0 ? new RealDate(RealDate.now() + offset) : new RealDate(...args);
}
MachineDate.prototype = RealDate.prototype;
MachineDate.now = () => RealDate.now() + offset;
MachineDate.parse = RealDate.parse;
MachineDate.UTC = RealDate.UTC;
globalThis.Date = MachineDate;
