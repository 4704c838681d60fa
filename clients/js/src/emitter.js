// A minimal event emitter that runs the same in a browser and in Node
// (EventTarget would need CustomEvent wrapping for every payload).
export class Emitter {
  #listeners = new Map();

  on(name, fn) {
    if (!this.#listeners.has(name))
      this.#listeners.set(name, new Set());
    this.#listeners.get(name).add(fn);
    return this;
  }

  off(name, fn) {
    this.#listeners.get(name)?.delete(fn);
    return this;
  }

  once(name, fn) {
    const wrapper = (...args) => {
      this.off(name, wrapper);
      fn(...args);
    };
    return this.on(name, wrapper);
  }

  // A listener that throws must not break the client's own bookkeeping: the
  // error is reported asynchronously, as a browser reports an uncaught one.
  emit(name, ...args) {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        setTimeout(() => { throw err; }, 0);
      }
    }
  }
}
