// The dbos console's script. It does two things, and every page works
// without it (only without refreshing itself):
//
//  - Live refresh: every data-refresh ms, while the tab is visible, fetch
//    the page again and bring each element marked data-live up to date
//    with its new version (the same id), changing only what differs, and
//    leaving a region alone while one of its fields has focus.
//  - In-place actions: a POST form is sent with fetch; the server answers
//    with the page it redirects to, which is swapped in (or, when it is
//    another page, such as a fork's, opened). Errors show in a toast.
(() => {
  "use strict";

  const every = Number(document.body.dataset.refresh) || 0;
  const live = document.getElementById("live");
  const toastEl = document.getElementById("toast");
  let timer = 0;
  let busy = false;
  let toastTimer = 0;
  let actions = 0; // counts actions, so that a refresh begun before one is dropped

  function setLive(text, state) {
    if (!live) return;
    live.textContent = text;
    live.title = text;
    live.classList.toggle("bad", state === "bad");
    live.classList.toggle("paused", state === "paused");
  }

  function toast(text, bad) {
    toastEl.textContent = text;
    toastEl.classList.toggle("bad", !!bad);
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, bad ? 8000 : 3000);
  }

  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  // messageOf is the message of an error page, or the HTTP status.
  function messageOf(doc, res) {
    const m = doc.querySelector(".error-message");
    return m ? m.textContent.trim() : res.status + " " + res.statusText;
  }

  // morph makes the node el like next, changing only what differs, so that
  // an element that did not change (a button being clicked) stays in place.
  // An open <details> stays open.
  function morph(el, next) {
    if (el.nodeType !== next.nodeType || el.nodeName !== next.nodeName) {
      el.replaceWith(document.importNode(next, true));
      return;
    }
    if (el.nodeType !== Node.ELEMENT_NODE) {
      if (el.nodeValue !== next.nodeValue) el.nodeValue = next.nodeValue;
      return;
    }
    const keep = el.nodeName === "DETAILS" ? "open" : "";
    for (const a of Array.from(el.attributes)) {
      if (a.name !== keep && !next.hasAttribute(a.name)) el.removeAttribute(a.name);
    }
    for (const a of Array.from(next.attributes)) {
      if (el.getAttribute(a.name) !== a.value) el.setAttribute(a.name, a.value);
    }
    const have = Array.from(el.childNodes);
    const want = Array.from(next.childNodes);
    want.forEach((n, i) => {
      if (i < have.length) morph(have[i], n);
      else el.appendChild(document.importNode(n, true));
    });
    for (const n of have.slice(want.length)) n.remove();
  }

  // swap brings each [data-live] element of the page up to date with the
  // element of the same id in doc, except one whose field has focus.
  function swap(doc) {
    for (const el of document.querySelectorAll("[data-live]")) {
      const next = doc.getElementById(el.id);
      const focused = document.activeElement;
      if (!next || (el.contains(focused) && focused.matches("input, select, textarea"))) continue;
      morph(el, next);
    }
    document.title = doc.title;
  }

  async function refresh() {
    if (busy) return;
    busy = true;
    const before = actions;
    try {
      const res = await fetch(location.href, { cache: "no-store" });
      const doc = parse(await res.text());
      if (before !== actions) return;
      if (!res.ok) {
        setLive(messageOf(doc, res), "bad");
        return;
      }
      swap(doc);
      setLive("live");
    } catch (err) {
      setLive("offline, retrying", "bad");
    } finally {
      busy = false;
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (every > 0 && !document.hidden) {
      timer = setTimeout(() => refresh().then(schedule), every);
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      clearTimeout(timer);
      setLive("paused", "paused");
    } else if (every > 0) {
      refresh().then(schedule);
    }
  });

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (form.method !== "post") return;
    ev.preventDefault();
    actions++;
    const done = form.dataset.done || "Done"; // before the form changes
    const button = ev.submitter;
    if (button) button.disabled = true;
    try {
      const res = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)) });
      const doc = parse(await res.text());
      if (!res.ok) {
        toast(messageOf(doc, res), true);
        return;
      }
      if (new URL(res.url).pathname !== location.pathname) {
        location.assign(res.url);
        return;
      }
      swap(doc);
      toast(done);
    } catch (err) {
      toast("The request failed: " + err.message, true);
    } finally {
      if (button) button.disabled = false;
    }
  });

  schedule();
})();
