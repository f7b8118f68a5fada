// The lesson screen's state and key mapping, and the course's routes: pure, no terminal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeReducer } from '../../src/ui/app-state.ts';
import { initialLessonUi, keyCommand, lessonReducer, type KeyContext, type LessonUi } from '../../src/ui/lesson-state.ts';

const idle: KeyContext = { running: false, passed: false, worksLocally: false, hasNext: true };
const press = (input: string, ui: LessonUi = initialLessonUi, context: KeyContext = idle, key = {}) => keyCommand(ui, context, input, key);

describe('keyCommand', () => {
  test('each key of the bar maps to its command', () => {
    assert.deepEqual(
      ['c', 'w', 'p', 'h', 's', 'r', 'q'].map((k) => press(k)),
      ['check', 'toggle-watch', 'playground', 'hint', 'solution', 'reset', 'quit'],
    );
  });

  test('while a check runs, only quitting works', () => {
    const running = { ...idle, running: true };
    assert.deepEqual(
      ['c', 'w', 'p', 'h', 's', 'r', 'b', 'l'].map((k) => press(k, initialLessonUi, running)),
      Array(8).fill(undefined),
    );
    assert.equal(press('q', initialLessonUi, running), 'quit');
    assert.equal(press('c', initialLessonUi, running, { ctrl: true }), 'quit');
  });

  test('an open question takes only its answers', () => {
    const asking = lessonReducer(initialLessonUi, { type: 'ask', question: 'reset' });
    assert.equal(press('y', asking), 'yes');
    assert.equal(press('n', asking), 'no');
    assert.equal(press('', asking, idle, { escape: true }), 'no');
    assert.equal(press('c', asking), undefined);
    assert.equal(press('q', asking), undefined, 'q does not quit in the middle of a question');
  });

  test('"1 vs N workers" exists only for lessons with the works-locally moment', () => {
    assert.equal(press('l'), undefined);
    assert.equal(press('l', initialLessonUi, { ...idle, worksLocally: true }), 'compare');
  });

  test('the next lesson is offered only after a pass, and only when there is one', () => {
    assert.equal(press('n'), undefined);
    assert.equal(press('n', initialLessonUi, { ...idle, passed: true }), 'next');
    assert.equal(press('n', initialLessonUi, { ...idle, passed: true, hasNext: false }), undefined);
  });

  test('back leaves the lesson from its text, and returns to the text from anywhere else', () => {
    assert.equal(press('b'), 'back');
    assert.equal(press('', initialLessonUi, idle, { escape: true }), 'back');
    const onCheck = lessonReducer(initialLessonUi, { type: 'show', panel: 'check' });
    assert.equal(press('b', onCheck), 'text');
    const withHint = lessonReducer(initialLessonUi, { type: 'hint', number: 1 });
    assert.equal(press('b', withHint), 'text');
  });
});

describe('lessonReducer', () => {
  test('a hint shows on the lesson text and goes when another panel opens', () => {
    const hinted = lessonReducer(lessonReducer(initialLessonUi, { type: 'show', panel: 'check' }), { type: 'hint', number: 2 });
    assert.deepEqual([hinted.panel, hinted.hint], ['text', 2]);
    const moved = lessonReducer(hinted, { type: 'show', panel: 'solution' });
    assert.equal(moved.hint, undefined);
  });

  test('a save during a run is remembered until the re-run starts, and forgotten when watch goes off', () => {
    const watching = lessonReducer(initialLessonUi, { type: 'watch', on: true });
    const saved = lessonReducer(watching, { type: 'saved-while-running' });
    assert.equal(saved.rerun, true);
    assert.equal(lessonReducer(saved, { type: 'rerun-started' }).rerun, false);
    assert.equal(lessonReducer(saved, { type: 'watch', on: false }).rerun, false);
  });
});

describe('routeReducer', () => {
  test('first run, home, a lesson, back home with it highlighted', () => {
    let route = routeReducer({ screen: 'first-run' }, { type: 'workspace-ready' });
    assert.deepEqual(route, { screen: 'home' });
    route = routeReducer(route, { type: 'open', lesson: 2 });
    assert.deepEqual(route, { screen: 'lesson', lesson: 2 });
    route = routeReducer(route, { type: 'home', from: 2 });
    assert.deepEqual(route, { screen: 'home', highlight: 2 });
  });

  test('once quitting, nothing navigates', () => {
    const quitting = routeReducer({ screen: 'home' }, { type: 'quit' });
    assert.equal(routeReducer(quitting, { type: 'open', lesson: 1 }), quitting);
  });
});
