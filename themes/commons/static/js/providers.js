/* Feedback Commons provider tables: written for this project. Progressive enhancement of
   every table marked data-sortable: a filter by name, kind and area, and column headings that
   sort. Without JavaScript the table is complete, and the kind and area pages filter it. */

function cellKey(row, index) {
  const cell = row.cells[index];
  const key = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
  const number = Number.parseFloat(key);
  return key.trim() === "" ? null : Number.isNaN(number) ? key.trim().toLowerCase() : number;
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null) return 1; // rows without a value always go last
  if (b === null) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

function makeSortable(table, announce) {
  const headers = Array.from(table.tHead.rows[0].cells);
  const body = table.tBodies[0];
  headers.forEach((header, index) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort-button";
    button.append(...header.childNodes);
    header.replaceChildren(button);
    button.addEventListener("click", () => {
      const ascending = header.getAttribute("aria-sort") !== "ascending";
      headers.forEach((h) => h.removeAttribute("aria-sort"));
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const ka = cellKey(a, index);
        const kb = cellKey(b, index);
        if (ka === null || kb === null) return compare(ka, kb);
        return ascending ? compare(ka, kb) : compare(kb, ka);
      });
      body.append(...rows);
      announce(`Sorted by ${button.textContent.trim()}, ${ascending ? "ascending" : "descending"}.`);
    });
  });
}

function choices(rows, attribute, column) {
  const seen = new Map();
  for (const row of rows) {
    seen.set(row.getAttribute(attribute), row.cells[column].textContent.trim());
  }
  return Array.from(seen.entries()).sort((a, b) => a[1].localeCompare(b[1]));
}

function field(labelText, control, id) {
  const wrapper = document.createElement("div");
  wrapper.className = "filter-field";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = labelText;
  control.id = id;
  wrapper.append(label, control);
  return wrapper;
}

function select(options, everything) {
  const element = document.createElement("select");
  element.append(new Option(everything, ""));
  for (const [value, text] of options) {
    element.append(new Option(text, value));
  }
  return element;
}

function addFilters(table, number, announce) {
  const rows = Array.from(table.tBodies[0].rows);
  const form = document.createElement("form");
  form.className = "table-filters";
  form.setAttribute("role", "search");
  form.setAttribute("aria-label", "Filter providers");
  const name = document.createElement("input");
  name.type = "search";
  name.autocomplete = "off";
  const kinds = choices(rows, "data-kind", 1);
  const areas = choices(rows, "data-area", 2);
  const kind = select(kinds, "All kinds");
  const area = select(areas, "All areas");
  form.append(field("Name contains", name, `filter-name-${number}`));
  if (kinds.length > 1) form.append(field("Kind", kind, `filter-kind-${number}`));
  if (areas.length > 1) form.append(field("Area", area, `filter-area-${number}`));
  form.addEventListener("submit", (event) => event.preventDefault());
  const apply = () => {
    const text = name.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const match =
        (!text || row.cells[0].textContent.toLowerCase().includes(text)) &&
        (!kind.value || row.getAttribute("data-kind") === kind.value) &&
        (!area.value || row.getAttribute("data-area") === area.value);
      row.hidden = !match;
      shown += match ? 1 : 0;
    }
    announce(`Showing ${shown} of ${rows.length} providers.`);
  };
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  table.closest(".table-scroll").before(form);
}

document.querySelectorAll("table[data-sortable]").forEach((table, number) => {
  const status = document.createElement("p");
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  const announce = (message) => {
    status.textContent = message;
  };
  table.closest(".table-scroll").after(status);
  addFilters(table, number, announce);
  makeSortable(table, announce);
});
