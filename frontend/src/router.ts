// A small history router: each page is a URL (shareable), links navigate without reloads.
import { useEffect, useState } from "preact/hooks";

export interface Location { path: string; query: URLSearchParams }

function current(): Location {
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event("runyard:navigate"));
  if (!replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    window.addEventListener("popstate", update);
    window.addEventListener("runyard:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("runyard:navigate", update);
    };
  }, []);
  return loc;
}

/** Links: plain <a href> that the router follows (so open-in-new-tab still works). */
export function onLinkClick(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  const anchor = (event.target as HTMLElement).closest("a");
  if (!anchor || anchor.target || anchor.hasAttribute("download")) return;
  const href = anchor.getAttribute("href");
  if (!href || !href.startsWith("/w/") && href !== "/") return;
  event.preventDefault();
  navigate(href);
}

/** Replace some query parameters of the current page (keeps it shareable, no history entry). */
export function setQuery(values: Record<string, string | null>): void {
  const query = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === "") query.delete(key);
    else query.set(key, value);
  }
  const text = query.toString();
  navigate(location.pathname + (text ? "?" + text : ""), true);
}
