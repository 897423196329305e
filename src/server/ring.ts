/** A fixed-capacity ring of the most recent items (capacity 0 keeps nothing). */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.capacity === 0) return;
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The kept items, newest first. */
  newestFirst(): T[] {
    const out: T[] = [];
    for (let i = 1; i <= this.items.length; i++) out.push(this.items[(this.next - i + this.capacity) % this.capacity]);
    return out;
  }
}
