/* presence.js: reports this browser's activity to presence over a
   WebSocket (protocol v1, or the classic /ping as fallback), warns before
   the session times out and leaves the page when it ends. No dependencies;
   safe under a strict CSP. See the README, "Browser client". */
(() => {
  "use strict";
  const W = window, D = document, H = D.documentElement, now = Date.now,
    cur = D.currentScript,
    TEXTS = {
      title: "Your session is about to end",
      body: "For your security, you will be signed out in {time}.",
      stay: "Stay signed in",
      logout: "Log out",
      ended: "Your session has ended.",
      titleCue: "\u26a0 ",
    },
    // Keys that work the dialog; they do not count as activity in it.
    KEYS = /^(Tab|Enter| |Escape|Shift|Control|Alt|Meta)$/;
  let seq = 0;

  // claims reads a token's payload without checking it (presence does):
  // base64url(ts|base64url(json)|mac).
  const claims = t => {
    try {
      const b = s => atob(s.replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(b(b(t).split("|")[1]), c => c.charCodeAt(0))));
    } catch {
      return {};
    }
  };

  const el = (tag, c, parent, text) => {
    const e = D.createElement(tag);
    if (c) e.className = "presence-" + c;
    if (text) e.textContent = text;
    parent && parent.append(e);
    return e;
  };
  const attrs = (e, a) => {
    for (const k in a) e.setAttribute(k, a[k]);
    return e;
  };
  const fmt = (n, unit) => {
    try {
      return new Intl.NumberFormat(H.lang || [], { style: "unit", unit, unitDisplay: "long" }).format(n);
    } catch {
      return n + " " + unit + (n == 1 ? "" : "s");
    }
  };

  function start(o = {}) {
    const tx = { ...TEXTS }, subs = {}, offs = [], id = "presence-" + ++seq, auto = o.transport != "ping",
      src = cur && cur.src,
      base = new URL(o.url || (src ? new URL(src).origin : location.origin), location.href).href.replace(/\/+$/, "");
    for (const k in o.texts) if (o.texts[k] != null) tx[k] = o.texts[k];
    const cue = tx.titleCue;
    let tok, cl, warnMs, expMs, ws, prev, said, rt, pt, st, lt, px, py,
      mode = auto ? "ws" : "ping", attempt = 0, fails = 0, heard = 0, sent = 0, srv = 0,
      warned = 0, ended = 0, off = 0, checking = 0, live = 0, leaving = 0, refreshed = 0,
      first = 1, busy = 0, again = 0;
    // Limits come from the token, later from each state frame.
    const setToken = t => {
      tok = t || "";
      cl = claims(tok);
      warnMs = (cl.warn_after || 540) * 1e3;
      expMs = (cl.expire_after || 600) * 1e3;
    };
    setToken(o.token);

    // Tabs of one session share the last activity and mirror the dialog.
    const name = "presence:" + (cl.sid || base), bc = m => ch && ch.postMessage(m);
    let last = 0, ch;
    try {
      last = +localStorage.getItem(name) || 0;
    } catch {}
    try {
      ch = new BroadcastChannel(name);
    } catch {}
    if (!o.passive || !last) last = now();

    const on = (t, type, f, opt) => {
      t.addEventListener(type, f, opt);
      offs.push(() => t.removeEventListener(type, f, opt));
    };
    const emit = (type, detail) => {
      for (const f of [...(subs[type] || [])]) {
        try {
          f(detail);
        } catch (e) {
          setTimeout(() => { throw e; });
        }
      }
    };
    const cls = (c, v) => H.classList.toggle(c, v);
    const send = f => ws && ws.readyState == 1 && (ws.send(JSON.stringify(f)), 1);
    const share = () => {
      bc({ k: "a", t: last });
      try {
        localStorage.setItem(name, last);
      } catch {}
    };
    const deadline = () => Math.max(srv, last + expMs);
    const thr = () => Math.min(3e4, Math.max(1e3, warnMs / 8));

    // The dialog, built once and shown with the hidden attribute only.
    const root = el("div", "root"), dlg = el("div", "dialog", root);
    root.hidden = true;
    attrs(dlg, { role: "alertdialog", "aria-modal": "true", "aria-labelledby": id + "-t", "aria-describedby": id + "-b" });
    el("h2", "title", dlg, tx.title).id = id + "-t";
    const body = el("p", "body", dlg), cd = el("span", "countdown");
    body.id = id + "-b";
    tx.body.split("{time}").forEach((s, i) => body.append(...(i ? [cd, s] : [s])));
    const row = el("div", "actions", dlg), stayB = el("button", "stay", row, tx.stay),
      outB = el("button", "logout", row, tx.logout),
      endP = attrs(el("p", "ended", root, tx.ended), { role: "status" }),
      liveR = attrs(el("div", "live", dlg), { "aria-live": "assertive", "aria-atomic": "true" });
    stayB.type = outB.type = "button";
    endP.hidden = true;
    stayB.onclick = () => extend();
    outB.onclick = () => logout();
    dlg.onkeydown = e => {
      if (e.key == "Escape") extend();
      else if (e.key == "Tab") (D.activeElement == stayB ? outB : stayB).focus();
      else return;
      e.preventDefault();
    };
    const ui = () => root.isConnected || (D.body || H).append(root);
    const untitle = () => cue && D.title.startsWith(cue) && (D.title = D.title.slice(cue.length));

    // render shows minutes, then seconds, and announces 60, 30, 10 s left.
    const render = () => {
      const ms = Math.max(0, srv - now()), s = Math.ceil(ms / 1e3);
      cd.textContent = ms > 6e4 ? fmt(Math.floor(ms / 6e4), "minute") : fmt(s, "second");
      for (const n of [60, 30, 10]) {
        if (s <= n && n < said) {
          said = n;
          liveR.textContent = body.textContent;
        }
      }
    };
    const warn = (ms, mirrored) => {
      if (ended || off) return;
      srv = now() + ms;
      if (!warned) {
        warned = 1;
        ui();
        prev = D.activeElement;
        said = Math.ceil(ms / 1e3);
        liveR.textContent = "";
        root.hidden = dlg.hidden = false;
        cls("presence-warning", true);
        if (!D.title.startsWith(cue)) D.title = cue + D.title;
        stayB.focus();
        mirrored || bc({ k: "w", e: srv });
        emit("warn", { expireInMs: ms });
      }
      render();
    };
    const unwarn = mirrored => {
      if (!warned) return;
      const inside = dlg.contains(D.activeElement);
      warned = 0;
      root.hidden = true;
      cls("presence-warning", false);
      untitle();
      if (inside && prev && prev.focus) prev.focus();
      mirrored || bc({ k: "s" });
      emit("active", {});
    };

    const drop = () => {
      const s = ws;
      ws = null;
      if (s) s.close(1000);
    };
    const halt = () => {
      drop();
      [rt, pt, st, lt].forEach(clearTimeout);
      clearInterval(iv);
    };
    // expire hides the page at once, then leaves it unless a listener
    // called preventDefault.
    const expire = (f = {}, mirrored) => {
      if (ended || off) return;
      ended = 1;
      halt();
      if (warned) untitle();
      warned = 0;
      cls("presence-warning", false);
      cls("presence-checking", false);
      cls("presence-expired", true);
      ui();
      dlg.hidden = true;
      root.hidden = endP.hidden = false;
      mirrored || bc({ k: "x", f });
      const ev = {
        reason: f.reason || "idle",
        redirectUrl: f.redirect_url || o.logoutUrl || "",
        defaultPrevented: false,
        preventDefault() { ev.defaultPrevented = true; },
      };
      emit("expire", ev);
      const url = ev.redirectUrl;
      if (ev.defaultPrevented || !url && !live) return; // no reload loop on a page born expired
      leaving = 1;
      if (!url) location.reload();
      else if (/^post$/i.test(o.logoutMethod)) {
        // Django 5 logs out by POST only.
        const form = el("form", 0, root);
        form.method = "post";
        form.action = url;
        if (o.csrfToken) {
          const i = el("input", 0, form);
          i.type = "hidden";
          i.name = o.csrfField || "csrfmiddlewaretoken";
          i.value = o.csrfToken;
        }
        form.submit();
      } else location.replace(url);
    };
    // end is the expire frame presence would send, for a local expiry.
    const end = reason => ({ reason, redirect_url: cl.logout_url });
    const logout = () => {
      if (ended || off) return;
      if (send({ type: "logout" })) lt = setTimeout(() => expire(end("logout")), 3e3);
      else expire(end("logout"));
    };
    const extend = () => {
      if (ended || off) return;
      last = sent = now();
      share();
      unwarn();
      mode == "ping" ? ping() : send({ type: "extend" });
    };

    // Activity goes out at once after a quiet spell, then at most once a
    // throttle interval, so an active person is never warned.
    const flush = () => {
      clearTimeout(st);
      st = 0;
      sent = now();
      share();
      if (mode != "ping") send({ type: "activity", idle_ms: Math.max(0, sent - last) });
      else if (warned) ping();
    };
    const activity = () => {
      if (ended || off || warned && o.requireButton) return;
      last = now();
      if (last - sent >= thr()) flush();
      else st = st || setTimeout(flush, sent + thr() - last);
    };
    const onAct = e => {
      if (e.type == "pointermove") {
        if (e.screenX == px && e.screenY == py) return; // a synthetic move
        px = e.screenX;
        py = e.screenY;
      }
      const t = e.target;
      if (t && t.nodeType && dlg.contains(t) && (e.type != "keydown" || KEYS.test(e.key))) return;
      activity();
    };

    const unhide = () => {
      checking = 0;
      cls("presence-checking", false);
    };
    const frame = f => {
      switch (f.type) {
        case "state":
          live = 1;
          refreshed = 0;
          warnMs = f.warn_after_ms;
          expMs = f.expire_after_ms;
          unhide();
          emit("state", f);
          if (f.status == "warning") warn(f.expire_in_ms);
          else {
            srv = now() + f.expire_in_ms;
            unwarn();
          }
          break;
        case "warn":
          warn(f.expire_in_ms);
          break;
        case "expire":
          expire(f);
          break;
        case "ping":
          send({ type: "pong" });
      }
    };

    const connect = () => {
      clearTimeout(rt);
      if (ended || off || ws) return;
      let s, open = 0;
      try {
        s = ws = new WebSocket(base.replace(/^http/, "ws") + "/ws", "presence.v1");
      } catch {
        return closed(0, 0);
      }
      s.onopen = () => {
        open = 1;
        attempt = fails = 0;
        heard = sent = now();
        const h = { type: "hello", idle_ms: Math.max(0, now() - last), path: location.pathname.slice(0, 256) };
        if (tok) h.token = tok;
        if (first && o.passive) h.passive = true; // the load is not activity
        first = 0;
        send(h);
        if (mode == "ping") {
          mode = "ws";
          clearTimeout(pt);
        }
        emit("connection", { status: "open", transport: "ws" });
      };
      s.onmessage = e => {
        if (ws != s) return;
        heard = now();
        frame(JSON.parse(e.data));
      };
      s.onclose = e => {
        if (ws != s) return;
        ws = null;
        closed(e.code, open);
      };
    };
    const refused = () => {
      off = 1; // presence cannot watch this session: do nothing more
      halt();
      emit("connection", { status: "refused", transport: "ws" });
    };
    const closed = (code, open) => {
      if (ended || off) return;
      if (code == 4410) return expire(end("idle"));
      if (code == 4401) {
        // Terminal: a fresh token, if the page can get one, or nothing.
        if (!o.refreshToken || refreshed) return refused();
        refreshed = 1;
        return Promise.resolve().then(o.refreshToken).then(t => {
          setToken(t);
          connect();
        }, refused);
      }
      open && emit("connection", { status: "closed", transport: "ws" });
      if (mode == "ping") rt = setTimeout(connect, 6e4);
      else if (!open && ++fails >= 3) {
        // WebSockets are blocked on the way: poll as django-session-security does.
        mode = "ping";
        emit("connection", { status: "fallback", transport: "ping" });
        ping();
        rt = setTimeout(connect, 6e4);
      } else rt = setTimeout(connect, Math.random() * Math.min(2e4, 500 * 2 ** attempt++));
    };

    // ping asks /ping how long the session has been idle, and asks again
    // when the answer says the warning or the end is due.
    const ping = async () => {
      clearTimeout(pt);
      if (ended || off || mode != "ping") return;
      if (busy) return (again = 1);
      busy = 1;
      let v;
      try {
        const r = await fetch(base + "/ping?idleFor=" + Math.max(0, (now() - last) / 1e3 | 0), {
          credentials: "include",
          cache: "no-store",
          headers: tok ? { Authorization: "Bearer " + tok } : {},
        });
        if (r.ok) v = await r.json();
      } catch {}
      busy = 0;
      if (ended || off || mode != "ping") return;
      if (v == "logout") return expire(end("idle"));
      if (again) {
        again = 0;
        return ping();
      }
      if (typeof v != "number") return (pt = setTimeout(ping, 5e3 + Math.random() * 5e3));
      live = 1;
      unhide();
      const w = warnMs / 1e3, x = expMs / 1e3;
      srv = now() + (x - v) * 1e3;
      if (v < w) {
        unwarn();
        pt = setTimeout(ping, (w - v) * 1e3);
      } else {
        warn((x - v) * 1e3);
        pt = setTimeout(ping, Math.max(1, x - v) * 1e3);
      }
    };

    // The server is the truth. After sleep or a throttled background tab,
    // a deadline already past hides the page until the server answers.
    const reconnect = () => {
      if (mode == "ping") return ping();
      drop();
      attempt = 0;
      connect();
    };
    const check = () => {
      checking = 1;
      cls("presence-checking", true);
      reconnect();
    };
    const wake = e => {
      if (ended || off || D.hidden) return;
      if (!checking && now() > deadline()) check();
      else if (e.persisted) reconnect(); // back from the bfcache
      else if (mode != "ping") ws || connect();
      else if (e.type == "online") {
        ping();
        auto && connect();
      }
      warned && render();
    };
    const tick = () => {
      if (ended || off) return;
      warned && render();
      if (!checking && now() > deadline() + 1e3) check();
      else if (ws && ws.readyState == 1 && now() - heard > 7e4) reconnect(); // a dead link
    };

    for (const t of ["pointerdown", "pointermove", "keydown", "wheel", "scroll", "touchstart"]) {
      on(W, t, onAct, { capture: true, passive: true });
    }
    on(D, "visibilitychange", wake);
    on(D, "resume", wake);
    for (const t of ["pageshow", "focus", "online"]) on(W, t, wake);
    // Keep focus in the dialog while it shows.
    on(D, "focusin", e => warned && !dlg.contains(e.target) && stayB.focus(), true);
    if (o.confirmUnload) {
      let dirty = 0;
      const mark = e => e.target.form && (dirty = 1);
      on(D, "input", mark, true);
      on(D, "change", mark, true);
      on(D, "submit", () => (dirty = 0), true);
      on(W, "beforeunload", e => {
        if (dirty && !leaving) {
          e.preventDefault();
          e.returnValue = "";
        }
      });
    }
    if (ch) {
      ch.onmessage = ({ data: m }) => {
        if (ended || off) return;
        if (m.k == "a") last = Math.max(last, m.t);
        // A warning from a tab that has not heard of activity here yet is stale.
        else if (m.k == "w") now() - last >= warnMs - 250 && warn(m.e - now(), 1);
        else if (m.k == "s") unwarn(1);
        else if (m.k == "x") expire(m.f, 1);
      };
    }
    if (o.css !== false && !D.querySelector("link.presence-css")) {
      const l = el("link", "css", D.head || H);
      l.rel = "stylesheet";
      l.href = base + "/presence.css";
    }
    if (!o.passive) share();
    const iv = setInterval(tick, 1e3);
    mode == "ping" ? ping() : connect();

    const h = {
      activity: () => activity(),
      extend: () => extend(),
      logout: () => logout(),
      stop() {
        if (warned) untitle();
        off = 1;
        halt();
        offs.forEach(f => f());
        ch && ch.close();
        root.remove();
        for (const c of ["warning", "checking", "expired"]) cls("presence-" + c, false);
      },
      on(type, f) {
        (subs[type] = subs[type] || new Set()).add(f);
        return h;
      },
      off(type, f) {
        subs[type] && subs[type].delete(f);
        return h;
      },
    };
    return h;
  }

  const P = (W.Presence = { start }), ds = cur && cur.dataset;
  // A script tag with data-token or data-start starts presence by itself.
  if (ds && (ds.token != null || ds.start != null)) {
    const b = k => k in ds && ds[k] != "false", texts = {};
    for (const k in ds) if (/^text[A-Z]/.test(k)) texts[k[4].toLowerCase() + k.slice(5)] = ds[k];
    const go = () => (P.handle = start({
      token: ds.token,
      url: ds.url,
      logoutUrl: ds.logoutUrl,
      passive: b("passive"),
      requireButton: b("requireButton"),
      transport: ds.transport,
      logoutMethod: ds.logoutMethod,
      csrfToken: ds.csrfToken,
      csrfField: ds.csrfField,
      confirmUnload: b("confirmUnload"),
      css: ds.css != "none",
      texts,
    }));
    D.readyState == "loading" ? D.addEventListener("DOMContentLoaded", go) : go();
  }
})();
