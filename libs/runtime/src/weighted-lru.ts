/**
 * A map that forgets its least recently used entries once their total weight passes `maxWeight` (a
 * workflow definition weighs its task count). An entry heavier than the bound is kept alone: everything
 * else goes first. No I/O: loading is the owner's business.
 */
export class WeightedLru<K, V> {
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the least recent.
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(readonly maxWeight: number) {
    if (!(maxWeight > 0)) throw new RangeError(`WeightedLru: maxWeight must be positive, got ${maxWeight}`);
  }

  /** Number of entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** Total weight of the entries held. */
  get weight(): number {
    return this.total;
  }

  /** The value under `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` as the most recently used, first evicting the least recent until it fits. */
  set(key: K, value: V, weight: number): void {
    if (!(weight >= 0)) throw new RangeError(`WeightedLru: weight must be >= 0, got ${weight}`);
    this.delete(key);
    const room = Math.min(weight, this.maxWeight);
    for (const [k, entry] of this.entries) {
      if (this.total + room <= this.maxWeight) break;
      this.entries.delete(k);
      this.total -= entry.weight;
    }
    this.entries.set(key, { value, weight });
    this.total += weight;
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.total -= entry.weight;
    return true;
  }
}
