// The playground page: shows what the app sent to the Slack stand-in (rendered on the server from
// Block Kit) and turns what a person does into the page's API calls, which the server sends to the app
// exactly as Slack would. One workspace, or two side by side: each is a Workspace below (its channel,
// App Home, modals, event stream), and every call names its workspace. No framework, no build step,
// nothing from the network.
"use strict";

(function () {
  const $ = (selector, root = document) => root.querySelector(selector);
  const workspaces = new Map(); // team id -> Workspace

  async function call(path, body) {
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

  // -- one workspace on the page ---------------------------------------------------------------------------

  class Workspace {
    constructor(root) {
      this.root = root;
      this.team = root.dataset.team;
      this.name = root.dataset.teamName;
      this.channel = root.dataset.channel;
      this.shown = new Map(); // message ts -> {rev, el}
      this.modalKey = null;
      this.homeKey = null;
      this.pane = "channel";
      this.refreshing = null;
      this.again = false;
      this.part("composer").addEventListener("submit", (event) => this.compose(event));
      this.part("digest").addEventListener("click", (event) => this.digest(event.currentTarget));
    }

    part(name) { return this.root.querySelector(`[data-part="${name}"]`); }

    api(path, body) {
      if (body === undefined) return call(`${path}?team=${encodeURIComponent(this.team)}`);
      return call(path, {...body, team: this.team});
    }

    say(text, bad) { toast(workspaces.size > 1 ? `${this.name}: ${text}` : text, bad); }

    // -- showing the state -----------------------------------------------------------------------------

    async refresh() {
      if (this.refreshing) { this.again = true; return this.refreshing; }
      this.refreshing = (async () => {
        try {
          do {
            this.again = false;
            this.render(await this.api("/api/state"));
          } while (this.again);
        } catch (error) {
          this.say(`The playground is not answering (${error.message}).`, true);
        } finally {
          this.refreshing = null;
        }
      })();
      return this.refreshing;
    }

    render(state) {
      this.renderMessages(state.messages);
      this.renderModal(state.modal);
      this.renderHome(state.home);
      this.root.dataset.version = state.version;
      if (workspaces.size === 1) document.body.dataset.version = state.version;
      else if ([...workspaces.values()].every((w) => w.root.dataset.version)) document.body.dataset.version = "ready";
    }

    renderMessages(messages) {
      const list = this.part("messages");
      const keys = new Set(messages.map((m) => m.key));
      for (const [key, entry] of this.shown) {
        if (!keys.has(key)) { entry.el.remove(); this.shown.delete(key); }
      }
      let previous = null;
      let added = false;
      for (const message of messages) {
        let entry = this.shown.get(message.key);
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
          this.shown.set(message.key, entry);
        }
        const expected = previous ? previous.nextElementSibling : list.firstElementChild;
        if (expected !== entry.el) list.insertBefore(entry.el, expected);
        previous = entry.el;
      }
      if (added) list.scrollTop = list.scrollHeight;
    }

    renderModal(modal) {
      const root = this.part("modal-root");
      if (!modal) {
        if (this.modalKey !== null) { root.innerHTML = ""; this.modalKey = null; }
        return;
      }
      if (modal.key === this.modalKey) return;
      this.modalKey = modal.key;
      root.innerHTML = "";
      root.appendChild(fragment(modal.html));
      const first = root.querySelector(".bk-error")
        ? root.querySelector(".bk-error").parentElement.querySelector("input, select, textarea")
        : root.querySelector("input, select, textarea");
      if (first) first.focus();
    }

    renderHome(home) {
      const key = home ? home.key : null;
      if (key === this.homeKey) return;
      this.homeKey = key;
      const root = this.part("home-view");
      root.innerHTML = "";
      if (home) root.appendChild(fragment(home.html));
      else root.innerHTML = '<div class="empty">The app has not published a Home tab yet.</div>';
    }

    // -- what a person does --------------------------------------------------------------------------------

    async act(el, extra) {
      const surface = surfaceOf(el);
      if (!surface) return;
      if (el.dataset.confirm) {
        const ok = await confirmDialog(JSON.parse(el.dataset.confirm));
        if (!ok) return;
      }
      if (el.dataset.url) window.open(el.dataset.url, "_blank", "noopener");
      el.classList.add("pressed");
      try {
        const answer = await this.api("/api/action", {
          surface: surface.name, ts: surface.ts, action_id: el.dataset.actionId, block_id: el.dataset.blockId,
          value: el.dataset.value, kind: el.dataset.kind, ...extra,
        });
        if (!answer.ok) this.say(`The app answered HTTP ${answer.status}. ${answer.note || ""}`, true);
      } catch (error) {
        this.say(error.message, true);
      } finally {
        setTimeout(() => el.classList.remove("pressed"), 300);
      }
    }

    async submitModal(button) {
      const modal = button.closest(".modal");
      button.disabled = true;
      button.classList.add("busy");
      try {
        const answer = await this.api("/api/submit", {values: modalValues(modal)});
        if (!answer.ok) this.say(`The app answered HTTP ${answer.status}.`, true);
        await this.refresh();
      } catch (error) {
        this.say(error.message, true);
      } finally {
        button.disabled = false;
        button.classList.remove("busy");
      }
    }

    closeModal() { return this.api("/api/close", {}).then(() => this.refresh()); }

    async compose(event) {
      event.preventDefault();
      const input = this.part("composer-input");
      const text = input.value.trim();
      if (!text) return;
      const match = /^\/qbsync(?:\s+([\s\S]*))?$/.exec(text);
      if (!match) {
        this.say("Only /qbsync reaches the app here: try /qbsync help.", true);
        return;
      }
      input.value = "";
      try {
        const answer = await this.api("/api/command", {text: match[1] || ""});
        if (!answer.ok) this.say(`The app answered HTTP ${answer.status}.`, true);
      } catch (error) {
        this.say(error.message, true);
      }
    }

    async digest(button) {
      this.showPane("channel");
      button.disabled = true;
      try {
        const answer = await this.api("/api/digest", {});
        this.say(answer.note || "Digest posted.");
      } catch (error) {
        this.say(`The digest failed: ${error.message}`, true);
      } finally {
        button.disabled = false;
      }
    }

    showPane(name) {
      this.pane = name;
      this.root.querySelectorAll(".nav-item").forEach((el) => el.classList.toggle("active", el.dataset.pane === name));
      this.part("channel").hidden = name !== "channel";
      this.part("home").hidden = name !== "home";
      const title = this.part("title");
      if (name === "home") {
        title.innerHTML = '<span class="app-dot">qb</span> qbsync <span class="app-badge">APP</span>';
        this.api("/api/home", {}).catch((error) => this.say(error.message, true));
      } else {
        title.innerHTML = '<span class="hash">#</span> ';
        title.append(this.channel);
        const list = this.part("messages");
        list.scrollTop = list.scrollHeight;
      }
    }

    // -- live updates: Server-Sent Events, polling if they fail --------------------------------------------

    listen() {
      if (!window.EventSource) { setInterval(() => this.refresh(), 1000); return; }
      const source = new EventSource(`/api/events?team=${encodeURIComponent(this.team)}`);
      source.onmessage = () => this.refresh();
      let polling = null;
      source.onerror = () => { if (!polling) polling = setInterval(() => this.refresh(), 1500); };
      source.onopen = () => { if (polling) { clearInterval(polling); polling = null; } this.refresh(); };
    }
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

  // -- what a person does, wherever on the page ------------------------------------------------------------

  function surfaceOf(el) {
    const surface = el.closest("[data-surface]");
    return surface ? {name: surface.dataset.surface, ts: surface.dataset.ts} : null;
  }

  function workspaceOf(el) {
    const root = el.closest(".ws");
    return root ? workspaces.get(root.dataset.team) : null;
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
      } else if (kind === "conversations_select") {
        const option = el.selectedOptions[0];
        value = {type: kind, selected_conversation: option && option.value ? option.value : null};
      } else if (kind === "multi_users_select") {
        value = {type: kind, selected_users: [...el.selectedOptions].map((o) => o.value)};
      } else if (kind === "timepicker") {
        value = {type: kind, selected_time: el.value === "" ? null : el.value.slice(0, 5)};
      } else {
        value = {type: kind, value: el.value === "" ? null : el.value};
      }
      (values[block] = values[block] || {})[action] = value;
    });
    return values;
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const button = target.closest("button");
    if (!button || button.closest(".confirm")) return;
    const workspace = workspaceOf(button);
    if (!workspace) return;
    if (button.matches("[data-submit]")) { workspace.submitModal(button); return; }
    if (button.matches("[data-close]")) { workspace.closeModal(); return; }
    if (button.matches(".bk-button[data-action-id]")) { workspace.act(button); return; }
    if (button.matches(".nav-item")) { workspace.showPane(button.dataset.pane); }
  });

  document.addEventListener("change", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLSelectElement) || !el.matches(".bk-select")) return;
    if (el.closest(".modal")) return; // a modal's inputs go with its submission
    const workspace = workspaceOf(el);
    const option = el.selectedOptions[0];
    if (workspace && option) workspace.act(el, {value: option.value, text: option.textContent});
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if ($("#confirm-root").firstElementChild) { $("#confirm-root [data-deny]").click(); return; }
    const open = [...workspaces.values()].filter((w) => w.part("modal-root").firstElementChild);
    const focused = document.activeElement && workspaceOf(document.activeElement);
    const closing = open.includes(focused) ? [focused] : open;
    closing.forEach((w) => w.closeModal());
  });

  document.querySelectorAll(".ws[data-team]").forEach((root) => {
    workspaces.set(root.dataset.team, new Workspace(root));
  });
  workspaces.forEach((workspace) => workspace.refresh().then(() => workspace.listen()));
})();
