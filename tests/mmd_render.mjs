// Render many Mermaid files in one Chromium page:
//   node mmd_render.mjs TOOLS_DIR [--png] [--boxes] FILE...
// writes FILE.svg (and FILE.png with --png) beside each input; exit 1 if any failed.
// --boxes also writes FILE.boxes.json: what the browser measured in the rendered SVG, in
// the SVG's own coordinates: every node's shape and every non-empty edge label's box
// ([x0, y0, x1, y1]), and points along every edge's drawn path, 4 px apart.
//
// What `mmdc` does for each diagram, done once for all of them: open mermaid-cli's own page
// (dist/index.html), load the mermaid that mermaid-cli depends on, mermaid.initialize with
// mmdc's defaults, then mermaid.render each definition into #container and serialize the
// SVG with XMLSerializer (as mmdc's renderMermaid does). Loading mermaid once instead of
// once per diagram (mermaid-cli's renderMermaid opens a new page each time) is what keeps a
// corpus of dozens of diagrams to a few seconds.
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const args = process.argv.slice(2);
const tools = args.shift();
const flag = (name) => (args[0] === name ? (args.shift(), true) : false);
const png = flag('--png');
const boxes = flag('--boxes');
const modules = path.join(tools, 'node_modules');
const { default: puppeteer } = await import(
  pathToFileURL(path.join(modules, 'puppeteer/lib/esm/puppeteer/puppeteer.js')).href);
const config = JSON.parse(readFileSync(path.join(tools, 'puppeteer.json'), 'utf8'));
const browser = await puppeteer.launch(config);
// In the page, on the SVG just rendered: boxes mapped into the SVG's coordinates.
const MEASURE = () => {
  const svg = document.querySelector('#container svg');
  const toSvg = svg.getScreenCTM().inverse();
  const box = (el) => {
    const b = el.getBBox();
    const m = toSvg.multiply(el.getScreenCTM());
    const xs = [], ys = [];
    for (const [x, y] of [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height],
                          [b.x + b.width, b.y + b.height]]) {
      const p = new DOMPoint(x, y).matrixTransform(m);
      xs.push(p.x); ys.push(p.y);
    }
    return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  };
  const nodes = Array.from(svg.querySelectorAll('g.node')).map((g) => {
    const shape = g.querySelector(':scope > :is(rect, circle, polygon, path, ellipse)')
      || g.querySelector(':scope > g:not(.label)') || g;
    return { id: g.id, text: g.textContent.trim(), box: box(shape) };
  });
  const labels = Array.from(svg.querySelectorAll('g.edgeLabel g.label'))
    .filter((g) => g.textContent.trim() !== '')
    .map((g) => ({ id: g.dataset.id, text: g.textContent.trim(), box: box(g) }));
  const edges = Array.from(svg.querySelectorAll('path.flowchart-link')).map((p) => {
    const m = toSvg.multiply(p.getScreenCTM());
    const length = p.getTotalLength();
    const points = [];
    for (let at = 0; at <= length; at += 4) {
      const q = p.getPointAtLength(at).matrixTransform(m);
      points.push([Math.round(q.x * 10) / 10, Math.round(q.y * 10) / 10]);
    }
    return { id: p.dataset.id, points };
  });
  return { nodes, labels, edges };
};
let rc = 0;
try {
  const page = await browser.newPage();
  page.on('console', (msg) => { if (msg.type() === 'error') console.error(msg.text()); });
  await page.setViewport({ width: 800, height: 600, deviceScaleFactor: 2 });
  await page.goto(pathToFileURL(
    path.join(modules, '@mermaid-js/mermaid-cli/dist/index.html')).href);
  await page.addScriptTag({ path: path.join(modules, 'mermaid/dist/mermaid.min.js') });
  await page.evaluate(async () => {
    await Promise.all(Array.from(document.fonts, (font) => font.load()));
    window.mermaid.initialize({ startOnLoad: false });
    document.body.style.background = 'white';
  });
  for (const file of args) {
    const definition = readFileSync(file, 'utf8');
    const base = file.replace(/\.[^.\/]+$/, '');
    try {
      const svg = await page.$eval('#container', async (container, definition) => {
        container.innerHTML = '';
        const { svg } = await window.mermaid.render('my-svg', definition, container);
        container.innerHTML = svg;
        const element = container.getElementsByTagName('svg')[0];
        element.style.backgroundColor = 'white';
        return new XMLSerializer().serializeToString(element);
      }, definition);
      writeFileSync(base + '.svg', svg);
      if (boxes) {
        writeFileSync(base + '.boxes.json', JSON.stringify(await page.evaluate(MEASURE)));
      }
      if (png) {
        const element = await page.$('#container svg');
        await element.screenshot({ path: base + '.png' });
      }
    } catch (e) {
      rc = 1;
      console.error(`${file}: ${e.message ?? e}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(rc);
