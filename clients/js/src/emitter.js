// Reports an application callback's error the way a browser reports an
// uncaught one, without breaking the client's own bookkeeping.
export function reportLater(err) {
  setTimeout(() => { throw err; }, 0);
}

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

  emit(name, ...args) {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        reportLater(err);
      }
    }
  }
}
