// The course session, the registry of running work, and quitting, for every screen.
import { createContext, useContext } from 'react';
import type { CourseSession } from './course.ts';
import type { Resources } from './resources.ts';

export interface CourseContextValue {
  /** Undefined until a workspace exists (the first-run screen creates it). */
  readonly session?: CourseSession;
  readonly resources: Resources;
  /** Stop every worker, then leave the course. */
  readonly quit: () => void;
  /** Where the course was started: relative paths are shown from here. */
  readonly cwd: string;
}

export const CourseContext = createContext<CourseContextValue | undefined>(undefined);

export function useCourse(): CourseContextValue {
  const value = useContext(CourseContext);
  if (!value) throw new Error('useCourse() needs a <CourseContext.Provider> above it.');
  return value;
}

/** The session, for screens that only exist once there is a workspace. */
export function useSession(): CourseSession {
  const { session } = useCourse();
  if (!session) throw new Error('This screen needs a course workspace.');
  return session;
}
