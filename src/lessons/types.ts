// The lesson contract lives with the engine that runs it (src/check/lesson.ts); lessons import it from here.
export type * from '../check/lesson.ts';
