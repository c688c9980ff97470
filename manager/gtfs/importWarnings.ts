/**
 * Rows skipped during an import. The list is capped so a badly broken feed
 * cannot bloat the stored summary; the total is still reported.
 */
export const MAX_LISTED_WARNINGS = 50;

export class ImportWarnings {
  private readonly listed: string[] = [];
  private total = 0;

  add(message: string): void {
    this.total += 1;
    if (this.listed.length < MAX_LISTED_WARNINGS) this.listed.push(message);
  }

  /** A point to go back to when rows read since are read again. */
  mark(): { total: number; listed: number } {
    return { total: this.total, listed: this.listed.length };
  }

  rewind(to: { total: number; listed: number }): void {
    this.total = to.total;
    this.listed.length = to.listed;
  }

  get count(): number {
    return this.total;
  }

  /** The listed warnings, ending with how many more were left out. */
  toList(): string[] {
    const more = this.total - this.listed.length;
    return more > 0 ? [...this.listed, `… and ${more} more warnings`] : [...this.listed];
  }
}
