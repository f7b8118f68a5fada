// In the worker: the functions the course puts in place of Node's own (the data-operation
// wrappers, the manual clock's timers and Date, the moved monotonic clocks) look like the ones
// they replace, to an app that looks: the same name and length, the same source text from
// Function.prototype.toString (which answers for itself as Node's own, too), and the same own
// properties (a `prototype` only where Node's has one, util.promisify's custom version, and
// nothing a library added). An app that read those could otherwise tell the course's host from a
// real one and behave for the check alone.
import { promisify } from 'node:util';

const sources = new WeakMap<object, string>();
const realToString = Function.prototype.toString;

// A method, as Node's own toString: no `prototype`, not a constructor.
const toString = {
  toString(this: unknown): string {
    if ((typeof this === 'function' || (typeof this === 'object' && this !== null)) && sources.has(this)) return sources.get(this)!;
    return realToString.call(this as () => void);
  },
}.toString;
sources.set(toString, realToString.call(realToString));
Object.defineProperty(Function.prototype, 'toString', { ...Object.getOwnPropertyDescriptor(Function.prototype, 'toString'), value: toString });

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/**
 * A function that calls `stand`, shaped as `real` is: with a `prototype` (and constructible)
 * only when `real` has one.
 */
function shaped(stand: AnyFunction, real: object): AnyFunction {
  if (Object.hasOwn(real, 'prototype')) {
    return function (this: unknown, ...args: unknown[]) {
      return new.target ? Reflect.construct(stand, args, new.target) : Reflect.apply(stand, this, args);
    };
  }
  return {
    method(this: unknown, ...args: unknown[]) {
      return Reflect.apply(stand, this, args);
    },
  }.method;
}

/**
 * Make `stand` look like `real`: its name, its length, its source text, and its own properties.
 * Returns `stand`, or a function that calls it when `stand` has a `prototype` where `real` has
 * none or the other way round (a function's `prototype` cannot be taken away or given back):
 * use what it returns.
 */
export function cloak<T extends object>(stand: T, real: object): T {
  if (typeof stand !== 'function' || typeof real !== 'function') return stand;
  let fn = stand as unknown as AnyFunction;
  if (Object.hasOwn(fn, 'prototype') !== Object.hasOwn(real, 'prototype')) {
    const stood = fn;
    fn = shaped(stood, real);
    // What the stand-in carries (process.hrtime's bigint) the new shape carries too.
    for (const key of Reflect.ownKeys(stood)) {
      if (key !== 'prototype' && key !== 'name' && key !== 'length') Object.defineProperty(fn, key, Object.getOwnPropertyDescriptor(stood, key)!);
    }
  }
  sources.set(fn, sources.get(real) ?? realToString.call(real as () => void));
  const own = real as unknown as Record<PropertyKey, unknown>;
  for (const key of ['name', 'length'] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(real, key);
    if (descriptor) Object.defineProperty(fn, key, { ...descriptor, value: own[key] });
  }
  // What a library put on the stand-in (fake timers mark theirs, and give their setTimeout a
  // promise version of their own) goes; what Node's has, it gets (util.promisify's custom version
  // of Node's setTimeout reads timers/promises, where the clock's stands).
  for (const key of Reflect.ownKeys(fn)) {
    if (key === 'prototype' || (Object.hasOwn(real, key) && key !== promisify.custom)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(fn, key);
    if (descriptor?.configurable) Reflect.deleteProperty(fn, key);
  }
  for (const key of Reflect.ownKeys(real)) {
    if (key === 'prototype' || key === 'name' || key === 'length' || Object.hasOwn(fn, key)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(real, key)!;
    if (key === Symbol.toPrimitive && typeof descriptor.value === 'function') {
      // Some of Node's functions turn into their value as text (`${os.uptime}`, `${os.hostname}`): so does the stand-in.
      const call = fn as unknown as () => unknown;
      Object.defineProperty(fn, key, { ...descriptor, value: cloak(() => call(), descriptor.value as object) });
    } else {
      Object.defineProperty(fn, key, descriptor);
    }
  }
  return fn as unknown as T;
}
