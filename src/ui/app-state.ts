// Where the learner is in the course: the first-run offer, home, or a lesson. Pure.
export type Route =
  | { readonly screen: 'first-run' }
  | { readonly screen: 'home'; readonly highlight?: number }
  | { readonly screen: 'lesson'; readonly lesson: number }
  | { readonly screen: 'quitting' };

export type RouteAction =
  | { readonly type: 'workspace-ready' }
  | { readonly type: 'open'; readonly lesson: number }
  | { readonly type: 'home'; readonly from?: number }
  | { readonly type: 'quit' };

export function routeReducer(route: Route, action: RouteAction): Route {
  if (route.screen === 'quitting') return route;
  switch (action.type) {
    case 'workspace-ready':
      return { screen: 'home' };
    case 'open':
      return { screen: 'lesson', lesson: action.lesson };
    case 'home':
      return { screen: 'home', highlight: action.from };
    case 'quit':
      return { screen: 'quitting' };
  }
}
