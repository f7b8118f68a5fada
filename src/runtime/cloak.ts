// In the worker: the functions the course puts in place of Node's own (the data-operation
// wrappers, the manual clock's timers and Date, the moved monotonic clocks) look like the ones
// they replace, to an app that looks: the same name and length, and the same source text from
// Function.prototype.toString (which answers for itself as Node's own, too). An app that read
// those could otherwise tell the course's host from a real one and behave for the check alone.
const sources = new WeakMap<object, string>();
const realToString = Function.prototype.toString;

function toString(this: unknown): string {
  if ((typeof this === 'function' || (typeof this === 'object' && this !== null)) && sources.has(this)) return sources.get(this)!;
  return realToString.call(this as () => void);
}
sources.set(toString, realToString.call(realToString));
Object.defineProperty(toString, 'name', { value: 'toString' });
Function.prototype.toString = toString;

/** Make `stand` look like `real`: its name, its length, its source text. Returns `stand`. */
export function cloak<T extends object>(stand: T, real: object): T {
  if (typeof stand !== 'function' || typeof real !== 'function') return stand;
  sources.set(stand, sources.get(real) ?? realToString.call(real as () => void));
  for (const key of ['name', 'length'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(real, key);
    if (descriptor) Object.defineProperty(stand, key, { ...descriptor, value: (real as unknown as Record<string, unknown>)[key] });
  }
  // Some of Node's functions turn into their value as text (`${os.uptime}`, `${os.hostname}`): so does the stand-in.
  const primitive = Object.getOwnPropertyDescriptor(real, Symbol.toPrimitive);
  if (typeof primitive?.value === 'function') {
    const call = stand as unknown as () => unknown;
    Object.defineProperty(stand, Symbol.toPrimitive, { ...primitive, value: cloak(() => call(), primitive.value as object) });
  }
  return stand;
}
