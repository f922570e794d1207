// The stepper's behaviour; `passes` (stepper.passes_js, from codegen) is defined before this.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const toNumber = (x) => (typeof x === "number" ? x
    : x === "NaN" ? NaN : x === "Infinity" ? Infinity : -Infinity);
  let values = data.values.map(toNumber);
  let adjoints = data.adjoints.map(toNumber);
  let partials = data.partials.map(toNumber);
  const inputs = data.variables.map((id) => values[id]);
  const steps = data.steps;
  const digits = data.digits;

  // Numbers exactly as cgraph.numtext spells them: `digits` significant digits as
  // Python's %g (round half to even on the exact binary value), or the shortest
  // round-trip text as Python's repr, the exponent unpadded (1e-7); NaN, Infinity, -Infinity.
  function decimal(a) { // a > 0, finite: [all significant digits, exponent of the first]
    const s = a.toPrecision(100);
    const k = s.indexOf("e");
    const m = k < 0 ? s : s.slice(0, k);
    const dot = m.indexOf(".");
    const ip = dot < 0 ? m : m.slice(0, dot);
    let ds = ip + (dot < 0 ? "" : m.slice(dot + 1));
    let exp = (k < 0 ? 0 : Number(s.slice(k + 1))) + ip.length - 1;
    let z = 0;
    while (z < ds.length - 1 && ds[z] === "0") z++;
    return [ds.slice(z), exp - z];
  }
  function trim(t) {
    if (t.indexOf(".") < 0) return t;
    t = t.replace(/0+$/, "");
    return t.endsWith(".") ? t.slice(0, -1) : t;
  }
  function spell(head, exp, low, high) { // Python's choice between fixed and scientific
    if (exp < low || exp >= high) {
      const mant = trim(head[0] + "." + head.slice(1));
      return mant + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)); // 1e-7, 1e+22
    }
    if (exp >= 0) {
      const whole = head.padEnd(exp + 1, "0");
      return trim(whole.slice(0, exp + 1) + "." + whole.slice(exp + 1));
    }
    return trim("0." + "0".repeat(-exp - 1) + head);
  }
  function fmt(v, p) {
    if (v !== v) return "NaN";
    if (v === Infinity) return "Infinity";
    if (v === -Infinity) return "-Infinity";
    if (p == null) return full(v);
    if (v === 0) return "0";
    let [ds, exp] = decimal(Math.abs(v));
    let head = ds.slice(0, p).padEnd(p, "0");
    const rest = ds.slice(p);
    let up = false;
    if (rest.length) {
      up = rest[0] > "5" || (rest[0] === "5" &&
        (/[1-9]/.test(rest.slice(1)) || Number(head[p - 1]) % 2 === 1));
    }
    if (up) {
      const d = head.split("");
      let i = p - 1;
      while (i >= 0 && d[i] === "9") { d[i] = "0"; i--; }
      if (i < 0) { d.unshift("1"); d.pop(); exp += 1; } else d[i] = String(Number(d[i]) + 1);
      head = d.join("");
    }
    return (v < 0 ? "-" : "") + spell(head, exp, -4, p);
  }
  function full(v) {
    if (v !== v || v === Infinity || v === -Infinity) return fmt(v, 6);
    if (v === 0) return Object.is(v, -0) ? "-0" : "0";
    const s = Math.abs(v).toExponential(); // the shortest digits that round-trip
    const k = s.indexOf("e");
    const head = s.slice(0, k).replace(".", "");
    return (v < 0 ? "-" : "") + spell(head, Number(s.slice(k + 1)), -4, 16);
  }
  window.cgraphFormat = fmt; // for tests: the page's spelling of a number

  function quantity(code) {
    if (typeof code === "number") return code;
    if (!/^[vgpc]\d+$/.test(code)) return toNumber(code);
    const i = Number(code.slice(1));
    switch (code[0]) {
      case "v": return values[i];
      case "g": return adjoints[i];
      case "p": return partials[i];
      default: return adjoints[data.edges[i]] * partials[i];
    }
  }
  function stepText(s) {
    let out = s.t[0];
    for (let k = 0; k < s.h.length; k++) {
      let t = fmt(quantity(s.h[k][0]), digits);
      if (s.h[k][1] && t.startsWith("-")) t = "(" + t + ")";
      out += t + s.t[k + 1];
    }
    return out;
  }

  const list = document.getElementById("steps");
  if (list) { // the list of every step, under its section's title
    const all = document.createDocumentFragment();
    let section = -1;
    steps.forEach((s, i) => {
      if (s.s !== section) {
        section = s.s;
        const title = document.createElement("li");
        title.className = "section";
        title.setAttribute("aria-hidden", "true");
        title.textContent = data.sections[section];
        all.appendChild(title);
      }
      const li = document.createElement("li");
      li.id = "s" + i;
      li.className = "step i" + s.i;
      const text = document.createElement("span");
      text.className = "text";
      li.appendChild(text);
      if (s.n) {
        const note = document.createElement("span");
        note.className = "note";
        note.textContent = "(" + s.n + ")";
        li.append(" ", note);
      }
      all.appendChild(li);
    });
    list.appendChild(all);
  }

  const numbers = Array.from(document.querySelectorAll("[data-q]"));
  const staged = Array.from(document.querySelectorAll("[data-s]"))
    .map((el) => [el, Number(el.dataset.s)]);
  const items = steps.map((_, i) => document.getElementById("s" + i));
  const now = document.getElementById("now");
  const slider = document.getElementById("slider");
  const count = document.getElementById("count");
  const play = document.getElementById("play");
  let current = 0;
  let focused = [];
  let timer = null;

  // where: which nodes get a gradient, and along which edges, at these values (as
  // Graph.gradient_flow); the branch not taken gets none, so its edges and numbers hide
  function flow() {
    const f = data.flow;
    if (!f) return;
    const live = f.ins.map(() => false);
    live[data.output] = true;
    const pass = (i, k) => {
      const t = f.tests[i];
      if (!t || t[k] === null) return true;
      if (t[k] === false) return false;
      const c = values[f.ins[i][0]];
      return t[k] === "eq" ? c === 0 : c !== 0;
    };
    const on = f.ins.map((ins, i) => ins.map(() => false));
    for (let i = data.output; i >= 0; i--) {
      if (!live[i]) continue;
      f.ins[i].forEach((j, k) => { if (pass(i, k)) { on[i][k] = true; live[j] = true; } });
    }
    f.ins.forEach((ins, i) => {
      ins.forEach((_, k) => {
        const el = document.getElementById("b" + i + "." + k);
        if (el) el.classList.toggle("off", !on[i][k]);
      });
      const label = document.getElementById("gl" + i);
      if (label) label.classList.toggle("off", !live[i] && !f.vars.includes(i));
    });
  }

  function refresh() {
    flow();
    for (const el of numbers) {
      const q = quantity(el.dataset.q);
      el.textContent = el.dataset.full ? fmt(q, null) : fmt(q, digits);
    }
    steps.forEach((s, i) => { items[i].querySelector(".text").textContent = stepText(s); });
    if (steps.length) show(current, false);
  }

  function show(i, scroll) {
    current = Math.max(0, Math.min(steps.length - 1, i));
    const s = steps[current];
    for (const [el, at] of staged) el.classList.toggle("pending", at > current);
    for (const el of focused) el.classList.remove("focus");
    focused = s.f.map((id) => document.getElementById(id)).filter(Boolean);
    for (const el of focused) el.classList.add("focus");
    for (const li of document.querySelectorAll("#steps li.current")) {
      li.classList.remove("current");
      li.removeAttribute("aria-current");
    }
    items[current].classList.add("current");
    items[current].setAttribute("aria-current", "step");
    now.querySelector(".section-name").textContent = data.sections[s.s];
    now.querySelector(".text").textContent = stepText(s) + (s.n ? "    (" + s.n + ")" : "");
    slider.value = String(current);
    count.textContent = "step " + (current + 1) + " of " + steps.length;
    if (scroll) {
      reveal(items[current]);
      if (focused.length) focused[0].scrollIntoView({block: "nearest", inline: "nearest"});
    }
  }

  // The step's line scrolled into view. Wider than a phone the picture sticks at the top of
  // the window (stepper.css), and the steps scroll in their own box, beside the picture or
  // below it, as tall as the window leaves it (`fit`). A line outside the part of the box
  // that shows: the page scrolls to bring the whole box into the window below (or beside)
  // the picture, as far as it can, then the box scrolls to the line, so that the picture
  // never leaves the screen and no line is under it. On a phone the steps scroll in their
  // own box, as ever.
  function reveal(li) {
    const pic = document.getElementById("picture");
    if (!pic || getComputedStyle(pic).position !== "sticky") {
      li.scrollIntoView({block: "nearest"});
      return;
    }
    const top = free(pic), bottom = window.innerHeight - 8;
    const shows = () => {
      const b = list.getBoundingClientRect(), r = li.getBoundingClientRect();
      return [r, Math.max(b.top, top), Math.min(b.bottom, bottom), b];
    };
    let [r, high, low, b] = shows();
    if (r.top >= high && r.bottom <= low) return;
    if (b.bottom > bottom) window.scrollBy(0, Math.min(b.bottom - bottom, b.top - top));
    else if (b.top < top) window.scrollBy(0, b.top - top);
    [r, high, low] = shows();
    if (r.top < high + 4) list.scrollTop -= high + 4 - r.top;
    else if (r.bottom > low - 4) list.scrollTop += Math.min(r.bottom - low + 4, r.top - high);
    [r] = shows();  // (a box shorter than the line, or the page at its end)
    if (r.top < top) window.scrollBy(0, r.top - top);
    else if (r.bottom > bottom) window.scrollBy(0, Math.min(r.bottom - bottom, r.top - top));
  }
  // Where the window is free of the sticky picture, for the steps: below it when the steps
  // are below it, else from the top.
  function free(pic) {
    const p = pic.getBoundingClientRect();
    const below = list.getBoundingClientRect().left < p.right;
    return below ? parseFloat(getComputedStyle(pic).top) + p.height + 16 : 8;
  }
  // The steps' box as tall as the window leaves it once the picture sticks (at least 10
  // lines' worth): the page is then never longer than what is above the picture, one
  // window and what is below the steps.
  function fit() {
    const pic = document.getElementById("picture");
    if (!list || !pic || getComputedStyle(pic).position !== "sticky") {
      if (list) list.style.maxHeight = "";
      return;
    }
    list.style.maxHeight = Math.max(window.innerHeight - free(pic) - 8, 240) + "px";
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    if (play) { play.textContent = "▶ play"; play.setAttribute("aria-label", "Play"); }
  }
  function toggle() {
    if (timer !== null) return stop();
    if (current === steps.length - 1) show(0, true);
    play.textContent = "❚❚ pause";
    play.setAttribute("aria-label", "Pause");
    timer = setInterval(() => {
      if (current >= steps.length - 1) return stop();
      show(current + 1, true);
    }, 900);
  }

  if (steps.length) {
    const go = (i) => () => { stop(); show(i(), true); };
    document.getElementById("first").addEventListener("click", go(() => 0));
    document.getElementById("prev").addEventListener("click", go(() => current - 1));
    document.getElementById("next").addEventListener("click", go(() => current + 1));
    document.getElementById("last").addEventListener("click", go(() => steps.length - 1));
    play.addEventListener("click", toggle);
    slider.addEventListener("input", () => { stop(); show(Number(slider.value), true); });
    items.forEach((li, i) => li.addEventListener("click", () => { stop(); show(i, false); }));
    document.addEventListener("keydown", (ev) => {
      const t = ev.target;
      if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
      if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
      const keys = {ArrowRight: () => current + 1, ArrowLeft: () => current - 1,
                    Home: () => 0, End: () => steps.length - 1};
      if (keys[ev.key]) {
        ev.preventDefault();
        stop();
        show(keys[ev.key](), true);
      } else if (ev.key === " " && !(t && t.tagName === "BUTTON")) {
        ev.preventDefault();
        toggle();
      }
    });
    fit();
    window.addEventListener("resize", fit);
    refresh();
  }

  // On a narrow screen (a phone) the picture fits its box, whole (stepper.css), where it
  // scrolled, cut at the right edge; a tap shows it at full size, where it scrolls to the
  // step's place, and another tap fits it again. `scaled` says it is smaller than drawn.
  const picture = document.getElementById("picture");
  const drawing = picture && picture.querySelector("svg.graph");
  if (drawing) {
    const narrow = window.matchMedia("(max-width: 37.5rem)");
    const mark = () => picture.classList.toggle("scaled", narrow.matches &&
      drawing.getBoundingClientRect().width < drawing.width.baseVal.value - 1);
    picture.addEventListener("click", () => {
      if (!narrow.matches) return;
      picture.classList.toggle("zoomed");
      mark();
      if (focused.length) focused[0].scrollIntoView({block: "nearest", inline: "nearest"});
    });
    window.addEventListener("resize", mark);
    mark();
  }

  // live inputs: each has a number field and a slider. A field that holds no number
  // (emptied, or "1e" half typed) is marked invalid and says so beside it; the picture
  // and every number keep the last value it did hold, which the message names, so
  // nothing on the page is stale. Leaving the field (or Escape) puts that value back.
  const names = data.variables.map(() => "");
  for (const field of document.querySelectorAll('#inputs input[type=number]')) {
    const k = Number(field.dataset.var);
    names[k] = field.getAttribute("aria-label");
    const why = document.createElement("span");
    why.className = "why";
    why.id = "why" + k;
    why.hidden = true;
    field.closest(".input").appendChild(why);
    field.setAttribute("aria-describedby", why.id);
  }
  function mark(field, problem) {
    const k = Number(field.dataset.var);
    const why = document.getElementById("why" + k);
    if (problem) {
      field.setAttribute("aria-invalid", "true");
      why.textContent = problem + ": still " + names[k] + " = " + fmt(inputs[k], null);
    } else {
      field.removeAttribute("aria-invalid");
    }
    why.hidden = !problem;
  }
  function restore(field) {
    if (field.getAttribute("aria-invalid") !== "true") return;
    field.value = String(inputs[Number(field.dataset.var)]);
    field.style.setProperty("--chars", field.value.length);
    mark(field, null);
  }
  for (const el of document.querySelectorAll("#inputs input")) {
    el.addEventListener("input", () => {
      const k = Number(el.dataset.var);
      const v = Number.parseFloat(el.value);
      if (el.value.trim() === "" || Number.isNaN(v)) {
        if (el.type === "number") mark(el, el.validity.badInput ? "not a number" : "empty");
        return;
      }
      inputs[k] = v;
      for (const other of document.querySelectorAll('#inputs input[data-var="' + k + '"]')) {
        if (other !== el) other.value = String(v);
        // the number field is as wide as what it shows (stepper.css)
        if (other.type === "number") {
          other.style.setProperty("--chars", other.value.length);
          mark(other, null);
        }
      }
      const r = passes(inputs);
      values = Array.from(r.values);
      adjoints = Array.from(r.adjoints);
      partials = Array.from(r.partials);
      refresh();
    });
    if (el.type === "number") {
      el.addEventListener("change", () => restore(el));
      el.addEventListener("blur", () => restore(el));
      el.addEventListener("keydown", (ev) => { if (ev.key === "Escape") restore(el); });
    }
  }
  document.documentElement.classList.add("ready");
})();
