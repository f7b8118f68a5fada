// What accounts for an item gone from the shelf after a purchase was cut off (lessons 6 and 9):
// its order, or a reservation of the app's own, a new row naming the buyer written with the item.
// A table whose rows naming her came when nothing left the shelf (a log of attempts, a customer's
// last visit, in a commit of their own) reserves nothing, then or in her later tries.

/** The reservations of one buyer over her tries. Rows are written "<table>\u0000<row>". */
export class Reservations {
  readonly #notReserving = new Set<string>();

  /** How many of `fresh` (the rows naming the buyer that this try added) reserve an item. */
  count(fresh: Iterable<string>, nothingLeft: boolean): number {
    const rows = [...fresh];
    if (nothingLeft) for (const row of rows) this.#notReserving.add(tableOf(row));
    return rows.filter((row) => !this.#notReserving.has(tableOf(row))).length;
  }
}

const tableOf = (row: string) => row.slice(0, row.indexOf('\u0000'));
