// Écrin referent page: sign in with a token, follow escalations live, acknowledge them.
//
// The token is kept in sessionStorage (gone when the tab closes) and sent only as an
// Authorization header, never in a URL. EventSource cannot send headers, so the live
// stream is read with fetch() and a ReadableStream reader, and parsed here.
// Everything from the hub is inserted with textContent: nothing is ever parsed as HTML.
// The page plays no sound: new escalations are announced through an aria-live region.
"use strict";

(() => {
  const TOKEN_KEY = "ecrin.referent.token";
  const API = "/api/v1";
  const MAX_RETRY_MS = 30000;
  const CONFIRM_MS = 5000;

  const LABELS = {
    fr: {
      title: "Escalades — référent",
      signInTitle: "Connexion",
      tokenLabel: "Jeton d'accès",
      tokenHelp:
        "Le jeton vous a été remis par l'installateur. Il reste dans cet onglet et s'efface à sa fermeture.",
      signIn: "Se connecter",
      signOut: "Se déconnecter",
      escalationsTitle: "Escalades",
      empty: "Aucune escalade.",
      badToken: "Jeton refusé : vérifiez-le et réessayez.",
      rateLimited: "Trop d'essais depuis ce poste. Réessayez dans {s} s.",
      noScope: "Ce jeton ne permet pas de consulter les escalades.",
      network: "Le hub ne répond pas. Vérifiez la connexion et réessayez.",
      sessionEnded: "Session terminée : reconnectez-vous.",
      live: "En direct",
      reconnecting: "Connexion perdue, reconnexion…",
      signedInAs: "Connecté : {name}",
      newEscalation: "Nouvelle escalade",
      ack: "Acquitter",
      resolve: "Clore",
      release: "Lever la préservation",
      confirmResolve: "Confirmer la clôture",
      confirmRelease: "Confirmer la levée",
      status_open: "Ouverte — en attente d'acquittement",
      status_acknowledged: "Acquittée",
      status_resolved: "Close",
      by: "par {who}",
      address: "Adresse",
      zone: "Zone",
      device: "Appareil",
      cameras: "Caméras",
      created: "Déclenchée",
      deadline: "Échéance d'acquittement",
      tier: "Palier atteint (à partir de 0)",
      signals: "Signaux",
      highStock: "Période à fort stock",
      scene: "Scène",
      sceneSealed: "préservée (ne rien modifier)",
      sceneReleased: "libérée",
      instructions: "Consignes",
      actionFailed: "Action refusée : {reason}",
      kind_holdup: "Braquage",
      kind_duress: "Code sous contrainte",
      kind_panic: "Alerte panique",
      kind_burglary: "Intrusion",
      kind_tamper: "Sabotage",
      kind_fire: "Incendie",
      kind_trouble: "Défaut technique",
      kind_link_lost: "Liaison perdue",
      kind_camera_lost: "Caméra perdue",
      camera_online: "en ligne",
      camera_offline: "hors ligne",
      camera_disabled: "désactivée",
      camera_unknown: "état inconnu",
      camera_notRecording: "en ligne, n'enregistre pas",
      camera_recordingUnknown: "en ligne, enregistrement inconnu",
      coverageAtSignal: "Filmée au signal",
      covered: "oui",
      notCovered: "non",
      filming: "filme et enregistre",
      coverageUnknown: "on ne sait pas : {reason}",
      asOf: "état connu au {time}",
    },
    en: {
      title: "Escalations — referent",
      signInTitle: "Sign in",
      tokenLabel: "Access token",
      tokenHelp:
        "Your installer gave you this token. It stays in this tab and is forgotten when the tab closes.",
      signIn: "Sign in",
      signOut: "Sign out",
      escalationsTitle: "Escalations",
      empty: "No escalation.",
      badToken: "Token refused: check it and try again.",
      rateLimited: "Too many attempts from this computer. Try again in {s} s.",
      noScope: "This token cannot view escalations.",
      network: "The hub does not answer. Check the connection and try again.",
      sessionEnded: "Session ended: please sign in again.",
      live: "Live",
      reconnecting: "Connection lost, reconnecting…",
      signedInAs: "Signed in: {name}",
      newEscalation: "New escalation",
      ack: "Acknowledge",
      resolve: "Resolve",
      release: "Release scene",
      confirmResolve: "Confirm: resolve",
      confirmRelease: "Confirm: release",
      status_open: "Open — awaiting acknowledgement",
      status_acknowledged: "Acknowledged",
      status_resolved: "Resolved",
      by: "by {who}",
      address: "Address",
      zone: "Zone",
      device: "Device",
      cameras: "Cameras",
      created: "Raised",
      deadline: "Acknowledge by",
      tier: "Tier reached (from 0)",
      signals: "Signals",
      highStock: "High-stock period",
      scene: "Scene",
      sceneSealed: "preserved (change nothing)",
      sceneReleased: "released",
      instructions: "Instructions",
      actionFailed: "Action refused: {reason}",
      kind_holdup: "Hold-up",
      kind_duress: "Duress code",
      kind_panic: "Panic alarm",
      kind_burglary: "Burglary",
      kind_tamper: "Tamper",
      kind_fire: "Fire",
      kind_trouble: "Technical fault",
      kind_link_lost: "Link lost",
      kind_camera_lost: "Camera lost",
      camera_online: "online",
      camera_offline: "offline",
      camera_disabled: "disabled",
      camera_unknown: "state unknown",
      camera_notRecording: "online, not recording",
      camera_recordingUnknown: "online, recording unknown",
      coverageAtSignal: "Filmed at the signal",
      covered: "yes",
      notCovered: "no",
      filming: "filming and recording",
      coverageUnknown: "cannot tell: {reason}",
      asOf: "as known at {time}",
    },
  };

  const lang = (navigator.language || "fr").toLowerCase().startsWith("fr") ? "fr" : "en";
  const t = (key, vars = {}) =>
    (LABELS[lang][key] ?? LABELS.fr[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""));
  const when = new Intl.DateTimeFormat(lang === "fr" ? "fr-FR" : "en-GB", {
    dateStyle: "short",
    timeStyle: "medium",
  });
  const STATUS_ORDER = { open: 0, acknowledged: 1, resolved: 2 };

  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    me: null,
    escalations: new Map(),
    // The coverage of each escalation's zone at its signal, by "id@revision" (null
    // while it is asked for, or when it could not be had).
    coverage: new Map(),
    loaded: false,
    generation: 0,
    controller: null,
  };

  class ApiError extends Error {
    constructor(status, code, reason, retryAfter) {
      super(reason);
      this.status = status;
      this.code = code;
      this.retryAfter = retryAfter;
    }
  }

  function headers(extra = {}) {
    return { Authorization: `Bearer ${state.token}`, ...extra };
  }

  async function api(path, { method = "GET" } = {}) {
    const response = await fetch(API + path, {
      method,
      headers: headers({ Accept: "application/json" }),
      cache: "no-store",
      credentials: "omit",
    });
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok) {
      throw new ApiError(
        response.status,
        body?.error ?? `http_${response.status}`,
        body?.reason ?? response.statusText,
        response.headers.get("Retry-After"),
      );
    }
    return body;
  }

  // -- sign in and out ------------------------------------------------------------------
  function show(element, visible) {
    element.hidden = !visible;
  }

  function setError(element, message) {
    element.textContent = message || "";
    show(element, Boolean(message));
  }

  function signInMessage(error) {
    if (!(error instanceof ApiError)) return t("network");
    if (error.status === 401) return t("badToken");
    if (error.status === 403) return t("noScope");
    if (error.status === 429) return t("rateLimited", { s: error.retryAfter ?? "60" });
    return error.message;
  }

  async function signIn(token) {
    state.token = token;
    const me = await api("/me");
    if (!me.scopes.includes("referent") && !me.scopes.includes("installer")) {
      throw new ApiError(403, "forbidden", t("noScope"));
    }
    state.me = me;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("who").textContent = t("signedInAs", { name: me.name });
    show($("who"), true);
    show($("sign-out"), true);
    show($("sign-in-view"), false);
    show($("escalations-view"), true);
    setError($("sign-in-error"), "");
    $("token-input").value = "";
    try {
      await loadList();
    } catch (error) {
      // The stream reloads the list when it connects; say why it is empty meanwhile.
      setError($("action-error"), error.message || t("network"));
    }
    state.loaded = true;
    startStream();
  }

  function signOut(message) {
    state.generation += 1;
    if (state.controller) state.controller.abort();
    sessionStorage.removeItem(TOKEN_KEY);
    Object.assign(state, { token: null, me: null, loaded: false, controller: null });
    state.escalations.clear();
    state.coverage.clear();
    $("escalations").replaceChildren();
    show($("who"), false);
    show($("sign-out"), false);
    show($("connection"), false);
    show($("escalations-view"), false);
    show($("sign-in-view"), true);
    setError($("sign-in-error"), message || "");
    setError($("action-error"), "");
    document.title = baseTitle;
    $("token-input").focus();
  }

  // -- escalations ----------------------------------------------------------------------
  async function loadList() {
    const body = await api("/escalations?limit=100");
    for (const escalation of body.escalations) upsert(escalation);
    render();
  }

  // Keeps the newest snapshot of each escalation (highest revision, then latest update);
  // returns true for an id not seen before.
  function newer(a, b) {
    if (a.revision !== b.revision) return a.revision > b.revision;
    return Date.parse(a.updated_at) > Date.parse(b.updated_at);
  }

  function upsert(escalation) {
    const known = state.escalations.get(escalation.id);
    if (known && newer(known, escalation)) return false;
    state.escalations.set(escalation.id, escalation);
    return !known;
  }

  function sorted() {
    return [...state.escalations.values()].sort(
      (a, b) =>
        STATUS_ORDER[a.status] - STATUS_ORDER[b.status] ||
        Date.parse(b.created_at) - Date.parse(a.created_at),
    );
  }

  function kindLabel(kind) {
    const label = LABELS[lang][`kind_${kind}`];
    return label ?? kind;
  }

  // Each camera with its availability as of the escalation's last change.
  function camerasText(escalation) {
    const states = new Map((escalation.camera_states || []).map((s) => [s.id, s]));
    return escalation.cameras
      .map((id) => {
        const s = states.get(id);
        if (!s) return id;
        const word = s.state === "online" && s.recording === false ? "notRecording" : s.state;
        return `${id} (${t(`camera_${word}`)})`;
      })
      .join(", ");
  }

  // Which cameras filmed the zone when the signal came: from the coverage log (online
  // and recording), asked for once per revision; nothing is shown until it comes.
  function coverageText(escalation) {
    const key = `${escalation.id}@${escalation.revision}`;
    if (!state.coverage.has(key)) {
      loadCoverage(escalation.id, key);
      return null;
    }
    const body = state.coverage.get(key);
    if (!body) return null;
    if (!body.known) return t("coverageUnknown", { reason: body.reason });
    const cameras = body.cameras
      .map((c) => {
        let word = `camera_${c.availability}`;
        if (c.filming) word = "filming";
        else if (c.availability === "online") {
          word = c.recording === "off" ? "camera_notRecording" : "camera_recordingUnknown";
        }
        return `${c.id} (${t(word)})`;
      })
      .join(", ");
    let text = body.covered ? t("covered") : t("notCovered");
    if (cameras) text += ` — ${cameras}`;
    if (body.as_of && body.as_of !== body.at) text += ` (${t("asOf", { time: formatTime(body.as_of) })})`;
    return text;
  }

  async function loadCoverage(id, key) {
    state.coverage.set(key, null);
    let body = null;
    try {
      body = await api(`/escalations/${encodeURIComponent(id)}/coverage`);
    } catch {
      return; // shown without it; a later revision asks again
    }
    state.coverage.set(key, body);
    const item = [...$("escalations").children].find((li) => li.dataset.id === id);
    if (item) item.dataset.updated = "";
    render();
  }

  function formatTime(value) {
    return value ? when.format(new Date(value)) : "—";
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function actionButton(escalation, action, label, confirmLabel) {
    const button = el("button", { type: "button", "data-action": action }, label);
    if (action !== "ack") button.className = "secondary";
    button.addEventListener("click", () => {
      if (confirmLabel && button.dataset.confirming !== "yes") {
        button.dataset.confirming = "yes";
        button.textContent = confirmLabel;
        setTimeout(() => {
          button.dataset.confirming = "";
          button.textContent = label;
        }, CONFIRM_MS);
        return;
      }
      act(escalation.id, action, button);
    });
    return button;
  }

  function renderItem(item, escalation) {
    item.className = `escalation escalation--${escalation.status}`;
    item.dataset.status = escalation.status;
    item.dataset.updated = `${escalation.revision}@${escalation.updated_at}`;
    const titleId = `escalation-${escalation.id}-title`;
    const article = el("article", { "aria-labelledby": titleId });
    const where = escalation.zone_name ? ` — ${escalation.zone_name}` : "";
    article.append(el("h3", { id: titleId }, `${kindLabel(escalation.kind)} · ${escalation.site}${where}`));

    let status = t(`status_${escalation.status}`);
    const who = escalation.status === "resolved" ? escalation.resolved_by : escalation.acknowledged_by;
    if (who && escalation.status !== "open") status += ` ${t("by", { who })}`;
    article.append(el("p", { class: "status" }, status));

    const facts = el("dl");
    const fact = (label, value) => {
      if (value === null || value === undefined || value === "") return;
      facts.append(el("dt", {}, label), el("dd", {}, String(value)));
    };
    fact(t("address"), escalation.address);
    fact(t("zone"), escalation.zone_name || escalation.zone);
    fact(t("device"), escalation.device);
    fact(t("cameras"), camerasText(escalation));
    fact(t("coverageAtSignal"), coverageText(escalation));
    fact(t("created"), formatTime(escalation.created_at));
    if (escalation.status === "open" && escalation.deadline) fact(t("deadline"), formatTime(escalation.deadline));
    fact(t("tier"), escalation.tier); // numbered from 0, as in the API, webhooks and logs
    if (escalation.signals > 1) fact(t("signals"), escalation.signals);
    fact(t("highStock"), escalation.high_stock);
    fact(t("scene"), escalation.scene_sealed ? t("sceneSealed") : null);
    article.append(facts);

    if (escalation.instructions) {
      const instructions = el("div", { class: "instructions" });
      instructions.append(el("h4", {}, t("instructions")), el("p", {}, escalation.instructions));
      article.append(instructions);
    }

    const actions = el("div", { class: "actions" });
    if (escalation.status === "open" && state.me.scopes.includes("referent")) {
      actions.append(actionButton(escalation, "ack", t("ack")));
    }
    if (escalation.status !== "resolved") {
      actions.append(actionButton(escalation, "resolve", t("resolve"), t("confirmResolve")));
    }
    if (escalation.scene_sealed) {
      actions.append(actionButton(escalation, "release-scene", t("release"), t("confirmRelease")));
    }
    if (actions.childElementCount) article.append(actions);
    item.replaceChildren(article);
  }

  // Updates the list in place, keyed by id, so that focus stays on untouched items.
  function render() {
    const list = $("escalations");
    const existing = new Map([...list.children].map((item) => [item.dataset.id, item]));
    const items = sorted().map((escalation) => {
      let item = existing.get(escalation.id);
      if (!item) {
        item = el("li", { "data-id": escalation.id });
      }
      if (item.dataset.updated !== `${escalation.revision}@${escalation.updated_at}`) {
        renderItem(item, escalation);
      }
      return item;
    });
    items.forEach((item, index) => {
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
    });
    while (list.children.length > items.length) list.lastElementChild.remove();
    show($("empty"), items.length === 0);
    const open = items.filter((item) => item.dataset.status === "open").length;
    document.title = open ? `(${open}) ${baseTitle}` : baseTitle;
  }

  function announce(escalation) {
    const announcer = $("announcer");
    const where = escalation.zone_name ? `, ${escalation.zone_name}` : "";
    announcer.textContent = "";
    requestAnimationFrame(() => {
      const colon = lang === "fr" ? " : " : ": ";
      announcer.textContent = `${t("newEscalation")}${colon}${kindLabel(escalation.kind)}, ${escalation.site}${where}`;
    });
  }

  async function act(id, action, button) {
    button.disabled = true;
    setError($("action-error"), "");
    try {
      const escalation = await api(`/escalations/${encodeURIComponent(id)}/${action}`, { method: "POST" });
      upsert(escalation);
      render();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        signOut(t("sessionEnded"));
        return;
      }
      setError($("action-error"), t("actionFailed", { reason: error.message }));
      button.disabled = false;
    }
  }

  // -- live stream ----------------------------------------------------------------------
  function setConnection(which) {
    const connection = $("connection");
    connection.dataset.state = which;
    connection.textContent = t(which);
    show(connection, true);
  }

  function handleEvent(message) {
    if (!message.data) return;
    let escalation;
    try {
      escalation = JSON.parse(message.data);
    } catch {
      return;
    }
    const isNew = upsert(escalation);
    render();
    if (isNew && state.loaded && escalation.status === "open") announce(escalation);
  }

  // Reads a text/event-stream body and calls onMessage for each complete event.
  async function readEvents(body, onMessage) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let message = { event: "message", data: "", id: "" };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (message.data) onMessage({ ...message, data: message.data.replace(/\n$/, "") });
          message = { event: "message", data: "", id: "" };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? "" : line.slice(colon + 1);
          if (value.startsWith(" ")) value = value.slice(1);
          if (field === "event") message.event = value;
          else if (field === "data") message.data += `${value}\n`;
          else if (field === "id") message.id = value;
        }
      }
    }
  }

  function startStream() {
    state.generation += 1;
    runStream(state.generation);
  }

  async function runStream(generation) {
    let retryMs = 1000;
    while (generation === state.generation) {
      const controller = new AbortController();
      state.controller = controller;
      try {
        const response = await fetch(`${API}/escalations/stream`, {
          headers: headers({ Accept: "text/event-stream" }),
          cache: "no-store",
          credentials: "omit",
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403) {
          signOut(t("sessionEnded"));
          return;
        }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        setConnection("live");
        retryMs = 1000;
        // What changed while the stream was down (acknowledged elsewhere, resolved).
        loadList().catch(() => {});
        await readEvents(response.body, handleEvent);
      } catch {
        if (controller.signal.aborted) return;
      }
      if (generation !== state.generation) return;
      setConnection("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }
  }

  // -- start ----------------------------------------------------------------------------
  const baseTitle = lang === "fr" ? "Écrin — référent" : "Écrin — referent";

  function start() {
    document.documentElement.lang = lang;
    document.title = baseTitle;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);

    $("sign-in-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) {
        setError($("sign-in-error"), t("badToken"));
        return;
      }
      const button = $("sign-in-button");
      button.disabled = true;
      try {
        await signIn(token);
      } catch (error) {
        state.token = null;
        setError($("sign-in-error"), signInMessage(error));
      } finally {
        button.disabled = false;
      }
    });
    $("sign-out").addEventListener("click", () => signOut(""));

    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      signIn(saved).catch((error) => signOut(signInMessage(error)));
    } else {
      $("token-input").focus();
    }
  }

  start();
})();
