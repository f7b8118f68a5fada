// A visitor's cookies as an attacker handles them: read out of her browser, and put back by hand
// (edited, or copied from another browser). Shared by the lessons whose visitors edit cookies.
import type { Visitor } from '../check/visitor.ts';

export interface JarCookie {
  readonly key: string;
  readonly value: string;
}

/** Every cookie in the visitor's jar. */
export async function cookiesOf(visitor: Visitor): Promise<{ cookies: JarCookie[] }> {
  const serialized = (await visitor.jar.serialize()) as { cookies: Array<{ key: string; value: string }> };
  return { cookies: serialized.cookies.map((c) => ({ key: c.key, value: c.value })) };
}

/**
 * Empty the visitor's jar and put exactly these cookies in it for the site, as a hand-edited
 * browser: Secure on an https site, so a cookie whose name needs it (__Host-, __Secure-) is kept
 * and every cookie goes with the site's requests.
 */
export async function replaceCookies(visitor: Visitor, cookies: readonly JarCookie[]): Promise<void> {
  await visitor.jar.removeAllCookies();
  const secure = visitor.site.startsWith('https:') ? '; Secure' : '';
  for (const { key, value } of cookies) {
    await visitor.jar.setCookie(`${key}=${value}; Path=/${secure}`, `${visitor.site}/`);
  }
}
