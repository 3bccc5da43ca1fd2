// The toolwire playground: one ES module, no framework, no build step.
// Every piece of data goes into the page as text (Text nodes, textContent), never as HTML.

const KEY = "toolwire.apiKey";
const HISTORY_PAGE = 100; // messages shown of an interaction (the latest)
const TOOLS_SHOWN = 200; // tools listed at once; search narrows a large registry
const $ = (id) => document.getElementById(id);

let current = interactionInHash(); // the interaction shown; "" for a new one

// -- the page ------------------------------------------------------------------------------
/** An element with attributes and children; strings become Text nodes, falsy ones are left out. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child || child === 0));
  return node;
}

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

const json = (value) => JSON.stringify(value);
const when = (iso) => new Date(iso).toLocaleString();
const signature = (name, args) =>
  `${name}(${Object.entries(args ?? {}).map(([k, v]) => `${k}=${json(v)}`).join(", ")})`;

// -- the API -------------------------------------------------------------------------------
class NeedsKey extends Error {}

/** fetch() with the stored key; a JSON body; errors (the API's {"error": ...}) thrown. */
async function request(path, { method = "GET", body } = {}) {
  const key = localStorage.getItem(KEY);
  const headers = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    askForKey(key ? "The server refused this API key." : "This server needs an API key.");
    throw new NeedsKey("an API key is needed");
  }
  if (!response.ok) {
    const answer = await response.json().catch(() => null);
    throw new Error(answer?.error?.message ?? `${response.status} ${response.statusText}`);
  }
  return response;
}

const getJson = async (path, options) => (await request(path, options)).json();

function report(error) {
  if (!(error instanceof NeedsKey)) status(error.message, true);
}

function askForKey(reason) {
  $("key-reason").textContent =
    `${reason} Create one with "toolwire keys create"; it is kept in this browser.`;
  $("key-form").hidden = false;
  $("key").focus();
}

/** Server-Sent Events read from a response body: {event, data} per block, as they arrive. */
async function* events(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (block) yield block;
    }
  }
}

function parseEvent(block) {
  let event = "message";
  const data = [];
  for (const line of block.split("\n")) {
    const colon = line.indexOf(":");
    if (colon === 0) continue; // a comment
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length ? { event, data: JSON.parse(data.join("\n")) } : null;
}

// -- calls: arguments, result or error, snippet, approval -------------------------------------
function callView(call, { folded = false } = {}) {
  const parts = [el("p", {}, el("code", { class: "call" }, signature(call.name, call.arguments)),
                     " ", el("span", { class: `badge ${call.status}` }, call.status))];
  if (call.status === "pending_approval") {
    parts.push(el("p", { class: "muted" }, "Waits for a person to approve or reject it."));
  } else if (call.error) {
    const { type = "error", message = json(call.error) } = call.error;
    parts.push(el("p", { class: "error" }, `${type}: ${message}`));
  } else if (call.status === "ok" || call.status === "approved") {
    parts.push(el("p", {}, "Result: ", el("code", { class: "result" }, json(call.result))));
  }
  if (call.snippet) parts.push(snippet(call.snippet, folded));
  return parts;
}

function snippet(code, folded) {
  const copy = el("button", { type: "button", class: "copy", "aria-label": "Copy the Python snippet" },
                  "Copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(code);
      copy.textContent = "Copied";
    } catch {
      copy.textContent = "Copy failed: select the text";
    }
    setTimeout(() => { copy.textContent = "Copy"; }, 2000);
  });
  const view = el("pre", {}, el("code", {}, code));
  if (folded) return el("details", { class: "snippet" }, el("summary", {}, "Python snippet"), copy, view);
  return el("figure", { class: "snippet" }, el("figcaption", {}, "Python snippet ", copy), view);
}

/** A reason field with Approve / Reject for a call that waits; `decided` gets the API's answer. */
function approvalControls(call, decided) {
  const reason = el("input", { type: "text", maxlength: "2000" });
  const box = el("div", { class: "approval", "data-call": call.id },
    el("label", {}, "Reason (optional)", reason),
    el("button", { type: "button", onclick: () => decide("approve") }, "Approve"),
    el("button", { type: "button", onclick: () => decide("reject") }, "Reject"));
  async function decide(verdict) {
    box.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const text = reason.value.trim();
      const answer = await getJson(`/tool-calls/${encodeURIComponent(call.id)}/${verdict}`,
                                   { method: "POST", body: text ? { reason: text } : {} });
      // the same call may wait both in this run's steps and in the history
      document.querySelectorAll(".approval").forEach((b) => b.dataset.call === call.id && b.remove());
      await decided(answer);
    } catch (error) {
      report(error);
      box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }
  return box;
}

// -- a run, step by step ---------------------------------------------------------------------
function step(kind, title, ...body) {
  const item = el("li", { class: `step ${kind}`, "data-kind": kind }, el("h3", {}, title), ...body);
  $("steps").append(item);
  return item;
}

const STEPS = {
  stored(d) {
    if (current !== d.interaction_id) showInteraction(d.interaction_id);
    step("stored", "Stored", el("p", { class: "muted" }, `message ${d.message_id}`));
  },
  retrieved(d) {
    step("retrieved", "Retrieved tools", el("ol", {}, ...d.candidates.map(([name, score]) =>
      el("li", {}, el("code", {}, name), ` ${Number(score).toFixed(3)}`))));
  },
  selected(d) {
    step("selected", "Selected", el("p", {}, d.names.length ? d.names.join(", ") : "no tool"),
         d.reason && el("p", { class: "muted" }, d.reason));
  },
  call_proposed(d) {
    step("call_proposed", `Call proposed (attempt ${d.attempt})`,
         el("p", {}, el("code", { class: "call" }, signature(d.name, d.arguments))));
  },
  validation_failed(d) {
    step("validation_failed", `Validation failed (attempt ${d.attempt})`,
         el("ul", {}, ...d.errors.map((e) => el("li", {}, e))));
  },
  executed(d) {
    step("executed", `Executed ${d.call.name}`, ...callView(d.call));
  },
  answer_delta(d) {
    $("answer").textContent += d.text;
  },
  answered(d) {
    $("answer").textContent = d.run.answer;
  },
  done(d) {
    $("answer").textContent = d.answer;
    for (const call of d.calls.filter((c) => c.status === "pending_approval")) {
      const item = step("approval", `Approval needed: ${call.name}`);
      item.append(approvalControls(call, async (answer) => {
        item.append(...callView(answer.call));
        $("answer").textContent = answer.answer;
        await loadHistory();
      }));
    }
  },
  error(d) {
    step("error", "Error", el("p", { class: "error" }, `${d.code}: ${d.message}`));
  },
};

async function run(event) {
  event.preventDefault();
  const prompt = $("prompt").value.trim();
  if (!prompt) return;
  $("run").disabled = true;
  $("steps").replaceChildren();
  $("answer").textContent = "";
  status("Running…");
  try {
    const body = current ? { prompt, interaction_id: current } : { prompt };
    const response = await request("/execute?stream=true", { method: "POST", body });
    let last = "";
    for await (const { event: kind, data } of events(response.body)) {
      STEPS[kind]?.(data);
      last = kind;
    }
    const finished = last === "done" || last === "error";
    status(finished ? "" : "The stream ended before the run did.", !finished);
  } catch (error) {
    report(error);
  } finally {
    $("run").disabled = false;
    await Promise.all([loadInteractions(), loadHistory()]).catch(report);
  }
}

// -- interactions and their history ----------------------------------------------------------
function interactionInHash() {
  const id = location.hash.slice(1);
  return /^[0-9a-f-]{36}$/i.test(id) ? id : "";
}

/** Make `id` the interaction shown (in the URL's hash too, so a reload keeps it). */
function showInteraction(id) {
  current = id;
  history.replaceState(null, "", id ? `#${id}` : location.pathname + location.search);
  const select = $("interaction");
  if (id && ![...select.options].some((o) => o.value === id)) {
    select.append(el("option", { value: id }, id.slice(0, 8)));
  }
  select.value = id;
}

async function loadInteractions() {
  const page = await getJson("/interactions?limit=100");
  $("interaction").replaceChildren(
    el("option", { value: "" }, "New interaction"),
    ...page.items.map((i) => el("option", { value: i.id }, `${when(i.updated)} · ${i.id.slice(0, 8)}`)));
  showInteraction(current);
}

async function loadHistory() {
  const list = $("history");
  if (!current) {
    list.replaceChildren(el("li", { class: "muted" }, "A new interaction: its messages appear here."));
    return;
  }
  const path = `/interactions/${encodeURIComponent(current)}?limit=${HISTORY_PAGE}`;
  let detail = await getJson(path);
  if (detail.message_count > detail.messages.length) {
    detail = await getJson(`${path}&offset=${detail.message_count - HISTORY_PAGE}`);
  }
  list.replaceChildren(...detail.messages.map((m) => el("li", { class: `message ${m.role}` },
    el("p", { class: "meta" }, `${m.role} · ${m.status} · ${when(m.created)}`),
    m.content && el("p", {}, m.content),
    m.error && el("p", { class: "error" }, m.error),
    ...m.tool_calls.map((call) => el("div", { class: "call-record" }, ...callView(call, { folded: true }),
      call.status === "pending_approval" && approvalControls(call, loadHistory))))));
}

async function choose(id) {
  showInteraction(id);
  $("steps").replaceChildren();
  $("answer").textContent = "";
  await loadHistory().catch(report);
}

// -- the registry ----------------------------------------------------------------------------
let allTools = [];
let searches = 0;
let typing;

function showTools(items, total) {
  $("tool-count").textContent = items.length < total
    ? `${items.length} of ${total} tools: search to narrow` : `${total} tools`;
  $("tools").replaceChildren(...items.map(({ tool, score }) => el("li", { class: "tool" },
    el("p", {}, el("code", {}, tool.name),
       score !== undefined && ` ${score.toFixed(3)}`,
       tool.requires_approval && el("span", { class: "badge pending_approval" }, "approval"),
       tool.source && tool.source !== "python" && el("span", { class: "badge" }, tool.source)),
    el("p", { class: "muted" }, tool.description),
    el("details", {}, el("summary", {}, "Parameters"),
       el("pre", {}, JSON.stringify(tool.parameters, null, 2))))));
}

async function loadTools() {
  allTools = await getJson("/tools");
  showTools(allTools.slice(0, TOOLS_SHOWN).map((tool) => ({ tool })), allTools.length);
}

async function searchTools() {
  const q = $("tool-query").value.trim();
  const mine = ++searches;
  if (!q) return showTools(allTools.slice(0, TOOLS_SHOWN).map((tool) => ({ tool })), allTools.length);
  try {
    const hits = await getJson(`/tools/search?k=20&q=${encodeURIComponent(q)}`);
    if (mine === searches) showTools(hits.map((h) => ({ tool: h, score: h.score })), hits.length);
  } catch (error) {
    report(error);
  }
}

// -- start -----------------------------------------------------------------------------------
async function start() {
  $("forget-key").hidden = !localStorage.getItem(KEY);
  status("");
  await Promise.all([loadInteractions(), loadHistory(), loadTools()]).catch(report);
}

$("run-form").addEventListener("submit", run);
$("prompt").addEventListener("keydown", (e) => {
  if (e.key !== "Enter" || e.shiftKey || e.isComposing) return;
  e.preventDefault();
  $("run-form").requestSubmit();
});
$("interaction").addEventListener("change", (e) => choose(e.target.value));
$("tool-query").addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(searchTools, 250);
});
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(KEY, $("key").value.trim());
  $("key").value = "";
  $("key-form").hidden = true;
  start();
});
$("forget-key").addEventListener("click", () => {
  localStorage.removeItem(KEY);
  start();
});
window.addEventListener("hashchange", () => choose(interactionInHash()));
start();
