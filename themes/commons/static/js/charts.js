/* Feedback Commons charts: written for this project. Draws each chart on the page with
   vega-embed from the site's own copy of Vega (theme/js/vega.js, loaded just before this
   module). Each chart's spec is built once for the whole site and sits in a
   <script type="application/json" id="chart-spec-KIND"> element; the chart's own data sits
   beside it. Without JavaScript, or if drawing fails, the data tables are the charts. */

const embed = window.vegaEmbed;

function readJson(element) {
  return element ? JSON.parse(element.textContent) : null;
}

async function draw(section) {
  const kind = section.getAttribute("data-chart");
  const spec = readJson(document.getElementById("chart-spec-" + kind));
  const values = readJson(section.querySelector(".chart-values"));
  const canvas = section.querySelector(".chart-canvas");
  if (!spec || !values || !canvas) {
    return;
  }
  // The drawn chart repeats the table and summary beside it, which assistive technology
  // reads instead, so the canvas stays aria-hidden.
  canvas.hidden = false;
  try {
    await embed(canvas, { ...spec, data: { values } }, { actions: false, renderer: "svg" });
    section.classList.add("chart-drawn");
  } catch (error) {
    canvas.hidden = true;
    canvas.replaceChildren();
  }
}

if (typeof embed === "function") {
  for (const section of document.querySelectorAll("[data-chart]")) {
    draw(section);
  }
}
