/**
 * What a server holds between requests: its loaded models, each with its batcher, its metrics,
 * and whether it is ready (models loaded, not draining).
 */
import { Batcher } from "./batcher.js";
import { type Job, type JobResult, jobRunners } from "./jobs.js";
import { createMetrics, type ServeMetrics } from "./metrics.js";
import { type LoadedModel, type LoadReport, loadModels } from "./models.js";
import { type ResolvedServeOptions, resolveServeOptions, type ServeOptions } from "./options.js";

export interface ServedModel extends LoadedModel {
  batcher: Batcher<Job, JobResult>;
}

export class ServeState {
  readonly options: ResolvedServeOptions;
  readonly metrics: ServeMetrics;
  private models = new Map<string, ServedModel>();
  /** Every batcher that may still hold work, replaced ones included (a drain waits for them). */
  private readonly batchers = new Set<Batcher<Job, JobResult>>();
  private loadedOnce = false;
  private resolveLoaded!: () => void;
  /** Resolves once the first load has finished (whatever failed in it). */
  readonly loaded: Promise<void> = new Promise((resolve) => {
    this.resolveLoaded = resolve;
  });
  private reloading: Promise<LoadReport> | undefined;
  draining = false;

  constructor(
    options: ServeOptions,
    private readonly log: (msg: string, err?: unknown) => void = () => {},
  ) {
    this.options = resolveServeOptions(options);
    this.metrics = createMetrics({ processMetrics: this.options.processMetrics });
  }

  /** Whether the first load has finished. */
  get hasLoaded(): boolean {
    return this.loadedOnce;
  }

  get ready(): boolean {
    return this.loadedOnce && !this.draining;
  }

  get(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  list(): ServedModel[] {
    return [...this.models.values()];
  }

  /**
   * Loads the models again (the first load too). A model that fails keeps its loaded version;
   * concurrent calls share one reload.
   */
  reload(): Promise<LoadReport> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<LoadReport> {
    const { models, report } = await loadModels(this.options.models, this.models, this.options.backend, this.log);
    const next = new Map<string, ServedModel>();
    for (const [name, m] of models) {
      const old = this.models.get(name);
      // A kept model keeps its batcher (and its queue); a new one gets a fresh one.
      next.set(name, old !== undefined && old.model === m.model ? old : { ...m, batcher: this.batcherFor(m) });
    }
    this.models = next;
    this.loadedOnce = true;
    this.resolveLoaded();
    return report;
  }

  private batcherFor(m: LoadedModel): Batcher<Job, JobResult> {
    const { maxBatch, maxDelayMs, maxQueue, timeoutMs } = this.options;
    const labels = { model: m.name };
    const batcher: Batcher<Job, JobResult> = new Batcher({ maxBatch, maxDelayMs, maxQueue, timeoutMs }, jobRunners(m.model), {
      onQueueDepth: (depth) => this.metrics.queueDepth.set(labels, depth),
      onDequeue: (ms) => this.metrics.queueSeconds.observe(labels, ms / 1000),
      onBatch: (kind, requests, rows, ms) => {
        const l = { model: m.name, kind };
        this.metrics.batchRequests.observe(l, requests);
        this.metrics.batchRows.observe(l, rows);
        this.metrics.computeSeconds.observe(l, ms / 1000);
        // A replaced model's batcher leaves the set once its last work is done.
        if (this.models.get(m.name)?.batcher !== batcher && !batcher.busy) this.batchers.delete(batcher);
      },
    });
    this.batchers.add(batcher);
    return batcher;
  }

  /** Stops being ready and waits until every queue is empty and no batch runs. */
  async drain(): Promise<void> {
    this.draining = true;
    await Promise.all([...this.batchers].map((b) => b.idle()));
  }
}
