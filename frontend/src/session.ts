import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { Me } from "./api";

export interface SessionInfo { ws: string; me: Me | null; routes: Set<string> }
export const Session = createContext<SessionInfo>({ ws: "", me: null, routes: new Set() });

/** Whether the caller may use an edit control whose API route is ``path`` (an OpenAPI path). */
export function useCanEdit(path: string): boolean {
  const { me, routes } = useContext(Session);
  return !!me?.can_edit && routes.has(path);
}
