// Type declarations of presence.mjs, presence's browser client as an ES
// module. docs/client.md documents the options, the handle and its events;
// a test of client/src fails when the client reads an option, emits an
// event or names an error code that this file does not declare.

/** The texts the client shows; each replaces the English default. */
export interface PresenceTexts {
  /** The dialog's title. Default: "Your session is about to end". */
  title?: string;
  /** The dialog's text; `{time}` is the countdown. Default: "For your security, you will be signed out in {time}." */
  body?: string;
  /** The button that keeps the session. Default: "Stay signed in". */
  stay?: string;
  /** The button that ends it. Default: "Log out". */
  logout?: string;
  /** The dialog's text before an absolute end, which nothing puts off; `{end}` is its time of day. Default: "Your session ends at {end}; save your work." */
  ends?: string;
  /** The one button of that dialog. Default: "OK". */
  ok?: string;
  /** Shown in place of the page once the session ended. Default: "Your session has ended." */
  ended?: string;
  /** Shown over the page while presence cannot confirm the session after its end. Default: "Your session may have ended. Reconnecting…" */
  covered?: string;
  /** Prefixed to the page title while the warning shows; "" for none. Default: "⚠ ". */
  titleCue?: string;
}

/** The options of start(); every one may be left out. */
export interface StartOptions {
  /** The token the application minted for this page; without it, the `presence` cookie. */
  token?: string;
  /**
   * Where presence is: its base URL (`https://presence.example.com`,
   * `https://example.com/presence`, or relative to the page) or its
   * WebSocket URL (`wss://presence.example.com/ws`). No credentials, query
   * or fragment: such a URL is refused with the error `url_invalid`.
   * Default: the origin presence.mjs was loaded from.
   */
  url?: string | URL;
  /** Where to go on expiry when presence names no redirect URL; with neither, the page reloads. */
  logoutUrl?: string;
  /** The session's warn_after in seconds, for a token that does not name it: used while presence cannot be reached. */
  warnAfter?: number | string;
  /** The session's expire_after in seconds, for a token that does not name it: used while presence cannot be reached. */
  expireAfter?: number | string;
  /** This page's load is not activity (a page that refreshes itself). Default: false. */
  passive?: boolean;
  /** Only "Stay signed in" (or extend()) dismisses the warning; activity while it shows does not count. Default: false. */
  requireButton?: boolean;
  /** "ping" keeps to the classic /ping flow, never a WebSocket. Default: "auto". */
  transport?: "auto" | "ping";
  /** "post" leaves on expiry by submitting a POST form to the logout URL. Default: a plain navigation. */
  logoutMethod?: "get" | "post" | "GET" | "POST";
  /** The value of the CSRF field of that form; without it the form has none. */
  csrfToken?: string;
  /** The name of that field. Default: "csrfmiddlewaretoken". */
  csrfField?: string;
  /** Ask before the page unloads while a form has unsaved changes. Default: false. */
  confirmUnload?: boolean;
  /** The tabs of the session in this browser share one WebSocket (Web Locks; presence-share.mjs loads on demand). Default: false. */
  shareSocket?: boolean;
  /** false: do not add presence's stylesheet; bundle presence.css or your own. Default: true. */
  css?: boolean;
  /**
   * false: show no warning dialog; the application shows its own from the
   * warn, active and expire events. The cover and the ended screen, which
   * hide the content, stay. Default: true.
   */
  dialog?: boolean;
  /** The texts the client shows. */
  texts?: PresenceTexts;
  /** A fresh token for the session, when presence refuses the one the client holds; reject when there is none. */
  refreshToken?: () => Promise<string> | string;
}

/** warn: the session will end unless the person is active. */
export interface WarnEvent {
  /** Milliseconds until the end, when the warning arrived. */
  expireInMs: number;
  /** The end, as an instant of the browser's clock (compare with Date.now()), for a countdown. */
  expiresAt: number;
}

/** active: the warning hides, after activity in some tab or extend(). */
export type ActiveEvent = Record<string, never>;

/** expire: the session ended; the content is hidden already. */
export interface ExpireEvent {
  /** Why: idle on the classic flow, which cannot tell. */
  reason: "idle" | "logout" | "revoked" | "lifetime";
  /** Where the client will go, or "" for a reload; a listener may change it. */
  redirectUrl: string;
  /** Whether a listener called preventDefault(). */
  readonly defaultPrevented: boolean;
  /** Keep the page: the client does not leave, and the content stays hidden until stop(). */
  preventDefault(): void;
}

/** state: presence's state frame, after each hello and when the session turns active again. */
export interface StateEvent {
  type: "state";
  status: "active" | "warning";
  idle_ms: number;
  warn_after_ms: number;
  expire_after_ms: number;
  expire_in_ms: number;
  /** The time left until the session's absolute end; absent when it has none. */
  end_in_ms?: number;
}

/** connection: the link to presence changed. */
export interface ConnectionEvent {
  /** open or closed (ws), fallback (ping), or refused (presence refused the page, or the url option cannot be used). */
  status: "open" | "closed" | "fallback" | "refused";
  transport: "ws" | "ping";
}

/**
 * The codes of the error event: presence's own refusals, and the client's
 * url_invalid. presence may add codes.
 */
export type ErrorCode =
  | "origin_refused"
  | "cross_site"
  | "token_missing"
  | "token_invalid"
  | "token_too_old"
  | "claims_invalid"
  | "url_invalid"
  | (string & {});

/** error: the page was refused, once per cause until presence answers again. */
export interface ErrorEvent {
  code: ErrorCode;
  /** What the console says: the cause and the fix. */
  message: string;
}

/** The events of a handle, by name, with what a listener gets. */
export interface PresenceEvents {
  warn: WarnEvent;
  active: ActiveEvent;
  expire: ExpireEvent;
  state: StateEvent;
  connection: ConnectionEvent;
  error: ErrorEvent;
}

/** A running client. */
export interface PresenceHandle {
  /** Counts activity that no DOM event shows: a playing video. */
  activity(): void;
  /** What "Stay signed in" does: hides the warning and keeps the session; before an absolute end, what "OK" does: hides the warning in this tab. */
  extend(): void;
  /** What "Log out" does: ends the session in every tab, then leaves as on expiry. */
  logout(): void;
  /** Closes the connection and hands the page back to the application. */
  stop(): void;
  on<K extends keyof PresenceEvents>(type: K, listener: (event: PresenceEvents[K]) => void): PresenceHandle;
  off<K extends keyof PresenceEvents>(type: K, listener: (event: PresenceEvents[K]) => void): PresenceHandle;
}

/** Starts the client and returns its handle. */
export function start(options?: StartOptions): PresenceHandle;
