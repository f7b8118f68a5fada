import { lessonSuite } from '../helpers/lesson-suite.ts';

await lessonSuite(2, 'flask');
