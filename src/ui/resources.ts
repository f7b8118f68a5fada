// Everything the course starts that must not outlive it (check runs, playground hosts) is
// registered here; quitting, a signal or a crash of the UI stops them all, in parallel.
export type Stop = () => Promise<void>;

export class Resources {
  readonly #running = new Set<Stop>();
  #closed = false;

  /** Register something to stop on exit; returns the function that unregisters it. */
  add(stop: Stop): () => void {
    if (this.#closed) {
      void stop();
      return () => {};
    }
    this.#running.add(stop);
    return () => this.#running.delete(stop);
  }

  get size(): number {
    return this.#running.size;
  }

  /** Stop everything registered (each once), and refuse new work after. */
  async stopAll(): Promise<void> {
    this.#closed = true;
    const all = [...this.#running];
    this.#running.clear();
    await Promise.allSettled(all.map((stop) => stop()));
  }
}
