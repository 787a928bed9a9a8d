// The playground page: shows what the app sent to the Slack stand-in (rendered on the server from
// Block Kit) and turns what a person does into the page's API calls, which the server sends to the app
// exactly as Slack would. No framework, no build step, nothing from the network.
"use strict";

(function () {
  const $ = (selector, root = document) => root.querySelector(selector);
  const shown = new Map(); // message ts -> {rev, el}
  let modalKey = null;
  let homeKey = null;
  let pane = "channel";
  let refreshing = null;
  let again = false;

  async function api(path, body) {
    const response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers: body === undefined ? {} : {"Content-Type": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || data.error || `HTTP ${response.status}`);
    return data;
  }

  function toast(text, bad) {
    const el = $("#toast");
    el.textContent = text;
    el.className = "toast" + (bad ? " bad" : "");
    el.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  // -- times, in the reader's zone, as Slack shows them ------------------------------------------------

  const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];
  const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function clock(d, seconds) {
    const options = {hour: "numeric", minute: "2-digit"};
    if (seconds) options.second = "2-digit";
    return d.toLocaleTimeString("en-US", options);
  }

  function pretty(d, plain) {
    const day = new Date(d); day.setHours(0, 0, 0, 0);
    const today = new Date(); today.setHours(0, 0, 0, 0);
    const diff = Math.round((day - today) / 86400000);
    return {0: "today", [-1]: "yesterday", 1: "tomorrow"}[diff] || plain;
  }

  function slackDate(ts, format) {
    const d = new Date(Number(ts) * 1000);
    const date = `${MONTHS[d.getMonth()]} ${ordinal(d.getDate())}, ${d.getFullYear()}`;
    const short = `${MONTHS[d.getMonth()].slice(0, 3)} ${d.getDate()}, ${d.getFullYear()}`;
    const long = `${DAYS[d.getDay()]}, ${date}`;
    const tokens = {
      date_num: `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`,
      date, date_short: short, date_long: long,
      date_pretty: pretty(d, date), date_short_pretty: pretty(d, short), date_long_pretty: pretty(d, long),
      time: clock(d, false), time_secs: clock(d, true),
    };
    return format.replace(/\{(\w+)\}/g, (all, name) => (name in tokens ? tokens[name] : all));
  }

  function localizeTimes(root) {
    root.querySelectorAll("time.sdate").forEach((el) => {
      el.title = el.textContent;
      el.textContent = slackDate(el.dataset.ts, el.dataset.format || "{date_short_pretty}");
    });
    root.querySelectorAll("time.msg-time").forEach((el) => {
      el.textContent = clock(new Date(Number(el.dataset.ts) * 1000), false);
    });
  }

  function fragment(html) {
    const template = document.createElement("template");
    template.innerHTML = html;
    localizeTimes(template.content);
    return template.content.firstElementChild;
  }

  // -- showing the state ---------------------------------------------------------------------------------

  async function refresh() {
    if (refreshing) { again = true; return refreshing; }
    refreshing = (async () => {
      try {
        do {
          again = false;
          render(await api("/api/state"));
        } while (again);
      } catch (error) {
        toast(`The playground is not answering (${error.message}).`, true);
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  function render(state) {
    renderMessages(state.messages);
    renderModal(state.modal);
    renderHome(state.home);
    document.body.dataset.version = state.version;
  }

  function renderMessages(messages) {
    const list = $("#messages");
    const keys = new Set(messages.map((m) => m.key));
    for (const [key, entry] of shown) {
      if (!keys.has(key)) { entry.el.remove(); shown.delete(key); }
    }
    let previous = null;
    let added = false;
    for (const message of messages) {
      let entry = shown.get(message.key);
      if (!entry || entry.rev !== message.rev) {
        const el = fragment(message.html);
        if (entry) {
          entry.el.replaceWith(el);
          el.classList.add("flash");
        } else {
          added = true;
          // an image arriving later grows its message: the newest stays in view
          el.querySelectorAll("img").forEach((img) => img.addEventListener("load", () => {
            if (list.lastElementChild === el) list.scrollTop = list.scrollHeight;
          }));
        }
        entry = {rev: message.rev, el};
        shown.set(message.key, entry);
      }
      const expected = previous ? previous.nextElementSibling : list.firstElementChild;
      if (expected !== entry.el) list.insertBefore(entry.el, expected);
      previous = entry.el;
    }
    if (added) list.scrollTop = list.scrollHeight;
  }

  function renderModal(modal) {
    const root = $("#modal-root");
    if (!modal) {
      if (modalKey !== null) { root.innerHTML = ""; modalKey = null; }
      return;
    }
    if (modal.key === modalKey) return;
    modalKey = modal.key;
    root.innerHTML = "";
    root.appendChild(fragment(modal.html));
    const first = root.querySelector(".bk-error")
      ? root.querySelector(".bk-error").parentElement.querySelector("input, select, textarea")
      : root.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  function renderHome(home) {
    const key = home ? home.key : null;
    if (key === homeKey) return;
    homeKey = key;
    const root = $("#home-view");
    root.innerHTML = "";
    if (home) root.appendChild(fragment(home.html));
    else root.innerHTML = '<div class="empty">The app has not published a Home tab yet.</div>';
  }

  // -- confirm dialogs -------------------------------------------------------------------------------------

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const root = $("#confirm-root");
      const style = confirm.style === "danger" ? "danger" : "primary";
      root.innerHTML = `
        <div class="modal-backdrop confirm-backdrop">
          <div class="modal confirm" role="alertdialog" aria-modal="true">
            <div class="modal-head"><span class="modal-title"></span></div>
            <div class="modal-body"><p class="confirm-text"></p></div>
            <div class="modal-foot">
              <button type="button" class="bk-button" data-deny></button>
              <button type="button" class="bk-button ${style}" data-confirm-ok></button>
            </div>
          </div>
        </div>`;
      $(".modal-title", root).textContent = confirm.title;
      $(".confirm-text", root).textContent = confirm.text;
      $("[data-deny]", root).textContent = confirm.deny;
      $("[data-confirm-ok]", root).textContent = confirm.confirm;
      const done = (answer) => { root.innerHTML = ""; resolve(answer); };
      $("[data-deny]", root).addEventListener("click", () => done(false));
      $("[data-confirm-ok]", root).addEventListener("click", () => done(true));
      $("[data-confirm-ok]", root).focus();
    });
  }

  // -- what a person does ----------------------------------------------------------------------------------

  function surfaceOf(el) {
    const surface = el.closest("[data-surface]");
    return surface ? {name: surface.dataset.surface, ts: surface.dataset.ts} : null;
  }

  async function act(el, extra) {
    const surface = surfaceOf(el);
    if (!surface) return;
    if (el.dataset.confirm) {
      const ok = await confirmDialog(JSON.parse(el.dataset.confirm));
      if (!ok) return;
    }
    if (el.dataset.url) window.open(el.dataset.url, "_blank", "noopener");
    el.classList.add("pressed");
    try {
      const answer = await api("/api/action", {
        surface: surface.name, ts: surface.ts, action_id: el.dataset.actionId, block_id: el.dataset.blockId,
        value: el.dataset.value, kind: el.dataset.kind, ...extra,
      });
      if (!answer.ok) toast(`The app answered HTTP ${answer.status}. ${answer.note || ""}`, true);
    } catch (error) {
      toast(error.message, true);
    } finally {
      setTimeout(() => el.classList.remove("pressed"), 300);
    }
  }

  function modalValues(modal) {
    const values = {};
    modal.querySelectorAll(".bk-input [data-action-id]").forEach((el) => {
      const block = el.dataset.blockId, action = el.dataset.actionId, kind = el.dataset.kind;
      let value;
      if (kind === "static_select") {
        const option = el.selectedOptions[0];
        value = {type: kind, selected_option: option && option.value
          ? {text: {type: "plain_text", text: option.textContent, emoji: true}, value: option.value} : null};
      } else {
        value = {type: kind, value: el.value === "" ? null : el.value};
      }
      (values[block] = values[block] || {})[action] = value;
    });
    return values;
  }

  async function submitModal(button) {
    const modal = button.closest(".modal");
    button.disabled = true;
    button.classList.add("busy");
    try {
      const answer = await api("/api/submit", {values: modalValues(modal)});
      if (!answer.ok) toast(`The app answered HTTP ${answer.status}.`, true);
      await refresh();
    } catch (error) {
      toast(error.message, true);
    } finally {
      button.disabled = false;
      button.classList.remove("busy");
    }
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const button = target.closest("button");
    if (!button) return;
    if (button.matches("[data-submit]")) { submitModal(button); return; }
    if (button.matches("[data-close]")) { api("/api/close", {}).then(refresh); return; }
    if (button.matches(".bk-button[data-action-id]") && !button.closest(".confirm")) { act(button); return; }
    if (button.matches(".nav-item")) { showPane(button.dataset.pane); }
  });

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLSelectElement) || !el.matches(".bk-select")) return;
    if (el.closest(".modal")) return; // a modal's inputs go with its submission
    const option = el.selectedOptions[0];
    act(el, {value: option.value, text: option.textContent});
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if ($("#confirm-root").firstElementChild) { $("#confirm-root [data-deny]").click(); return; }
    if ($("#modal-root").firstElementChild) api("/api/close", {}).then(refresh);
  });

  $("#composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#composer-input");
    const text = input.value.trim();
    if (!text) return;
    const match = /^\/qbsync(?:\s+([\s\S]*))?$/.exec(text);
    if (!match) {
      toast("Only /qbsync reaches the app here: try /qbsync help.", true);
      return;
    }
    input.value = "";
    try {
      const answer = await api("/api/command", {text: match[1] || ""});
      if (!answer.ok) toast(`The app answered HTTP ${answer.status}.`, true);
    } catch (error) {
      toast(error.message, true);
    }
  });

  $("#run-digest").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    showPane("channel");
    button.disabled = true;
    try {
      const answer = await api("/api/digest", {});
      toast(answer.note || "Digest posted.");
    } catch (error) {
      toast(`The digest failed: ${error.message}`, true);
    } finally {
      button.disabled = false;
    }
  });

  function showPane(name) {
    pane = name;
    document.querySelectorAll(".nav-item").forEach((el) => el.classList.toggle("active", el.dataset.pane === name));
    $("#pane-channel").hidden = name !== "channel";
    $("#pane-home").hidden = name !== "home";
    $("#pane-title").innerHTML = name === "home"
      ? '<span class="app-dot">qb</span> qbsync <span class="app-badge">APP</span>'
      : `<span class="hash">#</span> ${window.PLAYGROUND.channel}`;
    if (name === "home") {
      api("/api/home", {}).catch((error) => toast(error.message, true));
    } else {
      $("#messages").scrollTop = $("#messages").scrollHeight;
    }
  }

  // -- live updates: Server-Sent Events, polling if they fail ----------------------------------------------

  function listen() {
    if (!window.EventSource) { setInterval(refresh, 1000); return; }
    const source = new EventSource("/api/events");
    source.onmessage = () => refresh();
    let polling = null;
    source.onerror = () => { if (!polling) polling = setInterval(refresh, 1500); };
    source.onopen = () => { if (polling) { clearInterval(polling); polling = null; } refresh(); };
  }

  refresh().then(listen);
})();
