// Limits the interactive course and the plain commands share, so both accept the same values.

/** The most worker processes a check, `serve` or the playground runs (the playground's keys 1-8). */
export const MAX_WORKERS = 8;
