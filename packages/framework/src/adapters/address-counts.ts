/** Open sockets by remote address, for a per-address cap; an address with none is not kept. */
export class AddressCounts {
  readonly #counts = new Map<string, number>();

  /** How many sockets `address` holds. */
  of(address: string): number {
    return this.#counts.get(address) ?? 0;
  }

  add(address: string): void {
    this.#counts.set(address, this.of(address) + 1);
  }

  remove(address: string): void {
    const left = this.of(address) - 1;
    if (left <= 0) this.#counts.delete(address);
    else this.#counts.set(address, left);
  }
}
