import { useCallback, useEffect, useMemo, useReducer, useState } from 'react';
import { Text, useApp } from 'ink';
import { findLesson } from '../lessons/catalogue.ts';
import type { Workspace } from '../workspace.ts';
import { routeReducer, type Route } from './app-state.ts';
import type { CourseSession } from './course.ts';
import FirstRun from './FirstRun.tsx';
import Home from './Home.tsx';
import LessonScreen from './LessonScreen.tsx';
import type { Resources } from './resources.ts';
import { CourseContext } from './use-course.ts';
import { preloadMarkdown } from './use-markdown.ts';
import Quitting from './Quitting.tsx';

export type Props = {
  /** The workspace's session; undefined on a first run. */
  readonly session?: CourseSession;
  /** Open the session of a workspace the first-run screen created. */
  readonly openSession: (workspace: Workspace) => CourseSession;
  readonly resources: Resources;
  readonly cwd: string;
  /** Open this lesson at once (an instructor's jump). */
  readonly lesson?: number;
};

/** The course: first run, home, lessons; quitting stops every worker before the app exits. */
export default function App({ session: initialSession, openSession, resources, cwd, lesson }: Props) {
  const { exit } = useApp();
  const [session, setSession] = useState(initialSession);
  const [route, go] = useReducer(routeReducer, undefined, (): Route =>
    !initialSession ? { screen: 'first-run' } : lesson !== undefined ? { screen: 'lesson', lesson } : { screen: 'home' },
  );

  const quit = useCallback(() => {
    go({ type: 'quit' });
    void resources.stopAll().then(() => exit());
  }, [exit, resources]);

  // Load the Markdown renderer while the learner reads the home screen.
  useEffect(() => {
    const timer = setTimeout(() => void preloadMarkdown(), 50);
    return () => clearTimeout(timer);
  }, []);

  const context = useMemo(() => ({ session, resources, quit, cwd }), [session, resources, quit, cwd]);
  const statuses = useMemo(() => (route.screen === 'home' && session ? session.statuses() : []), [route, session]);

  return <CourseContext.Provider value={context}>{screen()}</CourseContext.Provider>;

  function screen() {
    switch (route.screen) {
      case 'quitting':
        return <Quitting />;
      case 'first-run':
        return (
          <FirstRun
            onCreated={(workspace) => {
              setSession(openSession(workspace));
              go({ type: 'workspace-ready' });
            }}
          />
        );
      case 'home':
        return (
          <Home
            statuses={statuses}
            workspace={session!.workspace.dir}
            highlight={route.highlight}
            notice={session!.notice ? { text: session!.notice, tone: 'warn' } : undefined}
            onOpen={(number) => go({ type: 'open', lesson: number })}
          />
        );
      case 'lesson': {
        const current = findLesson(String(route.lesson), session!.workspace.track);
        if (!current) return <Text color="red">{`There is no lesson ${route.lesson}.`}</Text>;
        return (
          <LessonScreen
            key={current.slug}
            lesson={current}
            onBack={() => go({ type: 'home', from: current.number })}
            onOpen={(number) => go({ type: 'open', lesson: number })}
          />
        );
      }
    }
  }
}
