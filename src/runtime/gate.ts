// The course's end of a worker's gate (see gate-protocol.ts): switch the worker between off,
// watching its data operations and holding it after each, hear what it does, and let it go on.
import type { Duplex } from 'node:stream';
import { jsonLines, type GateCommand, type GateMode, type GateOperation, type GateReport } from './gate-protocol.ts';

export type { GateOperation, GateReport };

export type GateListener = (report: Exclude<GateReport, { t: 'mode-set' } | { t: 'probed' }>) => void;
/** A look at whether a data file is there (see the 'probed' report). */
export type ProbeListener = (probe: Extract<GateReport, { t: 'probed' }>) => void;

export class WorkerGate {
  readonly #channel: Duplex;
  readonly #listeners = new Set<GateListener>();
  readonly #probeListeners = new Set<ProbeListener>();
  readonly #pending = new Map<number, () => void>();
  readonly #closed: Promise<void>;
  #id = 0;
  #open = true;

  constructor(channel: Duplex, exited: Promise<unknown>) {
    this.#channel = channel;
    channel.on('error', () => {});
    channel.setEncoding('utf8');
    channel.on('data', jsonLines<GateReport>((report) => this.#receive(report)));
    this.#closed = exited.then(() => {
      this.#open = false;
      for (const done of this.#pending.values()) done();
      this.#pending.clear();
    });
  }

  /**
   * Set the gate's mode: 'off', 'watch' (report operations) or 'hold' (report, and wait after
   * each for `go`). Resolves once the worker applies it, so a request sent afterwards sees it
   * (or once the worker is gone).
   */
  setMode(mode: 'off' | 'watch' | 'hold'): Promise<void> {
    if (!this.#open) return Promise.resolve();
    const id = ++this.#id;
    const code: GateMode = mode === 'off' ? 0 : mode === 'watch' ? 1 : 2;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#send({ t: 'mode', id, mode: code });
    });
  }

  /** Let a held worker go on after operation `seq` (or, `before`, begin operation `seq`). */
  go(seq: number, before = false): void {
    this.#send(before ? { t: 'go', seq, before } : { t: 'go', seq });
  }

  /** Hear the worker's operations (in watch and hold modes). */
  on(listener: GateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Hear the worker look whether data files are there (in watch and hold modes). */
  onProbe(listener: ProbeListener): () => void {
    this.#probeListeners.add(listener);
    return () => this.#probeListeners.delete(listener);
  }

  /** Resolves when the worker has exited. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  #send(command: GateCommand): void {
    if (!this.#open || this.#channel.destroyed) return;
    this.#channel.write(`${JSON.stringify(command)}\n`);
  }

  #receive(report: GateReport): void {
    if (report.t === 'mode-set') {
      this.#pending.get(report.id)?.();
      this.#pending.delete(report.id);
      return;
    }
    if (report.t === 'probed') {
      for (const listener of this.#probeListeners) listener(report);
      return;
    }
    for (const listener of this.#listeners) listener(report);
  }
}
