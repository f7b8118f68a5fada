import { lessonSuite } from '../helpers/lesson-suite.ts';

await lessonSuite(3);
