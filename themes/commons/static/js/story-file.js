/* Feedback Commons: a story file (YAML) from the answers to the share-a-story form. Written
   for this project. Everything about the fields comes from the form's configuration, which
   the build derives from the schemas; nothing here restates a field or a rule. */

const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const YAML_WORDS = /^(true|false|yes|no|on|off|null|y|n|~)$/i;
// Line breaks to YAML 1.1 (PyYAML) that JSON leaves as they are.
const ODD_BREAKS = /[\u0085\u2028\u2029]/g;
const HAS_ODD_BREAK = /[\u0085\u2028\u2029]/;

function twoDigits(number) {
  return String(number).padStart(2, "0");
}

export function isoDate(date) {
  return `${date.getFullYear()}-${twoDigits(date.getMonth() + 1)}-${twoDigits(date.getDate())}`;
}

export function newStoryId(date, random) {
  const bytes = random(6);
  let suffix = "";
  for (const byte of bytes) {
    suffix += ID_ALPHABET[byte % ID_ALPHABET.length];
  }
  return `${isoDate(date)}-${suffix}`;
}

function quoted(text) {
  return JSON.stringify(text).replace(ODD_BREAKS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/* A scalar: plain when YAML reads it back as exactly this text, else double-quoted. */
export function scalar(value) {
  if (typeof value === "number" || typeof value === "boolean") {
    return String(value);
  }
  const text = String(value);
  // Ids, enum values, dates and story ids; anything else YAML might read as a number, a
  // boolean or null, or that needs escaping, is quoted.
  const plainId = /^[a-z][a-z0-9-]*$/.test(text) && !YAML_WORDS.test(text);
  const plainDate = /^[0-9]{4}-[0-9]{2}(-[0-9]{2}(-[a-z0-9]+)?)?$/.test(text);
  return plainId || plainDate ? text : quoted(text);
}

/* Multi-line text as a literal block, unless its shape needs the quoted form. */
export function textBlock(text, indent) {
  const normal = text.replace(/\r\n?/g, "\n").replace(/\s+$/, "");
  const lines = normal.split("\n");
  if (!normal || /^\s/.test(normal) || HAS_ODD_BREAK.test(normal) || /[\t\u0000-\u0008\u000b-\u001f]/.test(normal)) {
    return quoted(normal);
  }
  return "|\n" + lines.map((line) => (line.trim() ? indent + line : "")).join("\n");
}

/* The story file: fields in schema order (dotted names nested), then ratings and tags, with
   the free text last. answers maps a field name to its value; ratings maps a dimension id to
   a score; tags maps a tag kind to a list of tag ids. */
export function storyYaml(config, answers, ratings, tags) {
  const lines = [];
  let open = "";
  const free = [];
  for (const field of config.fields) {
    const value = answers[field.name];
    if (value === undefined || value === null || value === "") {
      continue;
    }
    if (field.name === config.textField) {
      free.push(field.name);
      continue;
    }
    const dot = field.name.lastIndexOf(".");
    const head = dot >= 0 ? field.name.slice(0, dot) : "";
    const leaf = field.name.slice(dot + 1);
    if (head && head !== open) {
      lines.push(`${head}:`);
    }
    open = head;
    lines.push(`${head ? "  " : ""}${leaf}: ${scalar(value)}`);
  }
  const rated = config.dimensions.filter((d) => ratings[d] !== undefined && ratings[d] !== "");
  if (rated.length) {
    lines.push("ratings:");
    for (const dimension of rated) {
      lines.push(`  ${dimension}: ${Number(ratings[dimension])}`);
    }
  }
  const tagged = config.tagKinds.filter((k) => tags[k] && tags[k].length);
  if (tagged.length) {
    lines.push("tags:");
    for (const kind of tagged) {
      lines.push(`  ${kind}: [${tags[kind].map(scalar).join(", ")}]`);
    }
  }
  for (const name of free) {
    lines.push(`${name}: ${textBlock(String(answers[name]), "  ")}`);
  }
  return lines.join("\n") + "\n";
}

/* Where the file goes in the repository: data/stories/2026/2026-11-22-k3m9qz.yaml. */
export function storyPath(config, storyId) {
  const year = storyId.slice(0, 4);
  return `${config.dataFolder}/${config.files.replace("{year}", year).replace("{id}", storyId)}`;
}

export function gitHubNewFileUrl(repository, branch, path, text) {
  const query = `filename=${encodeURIComponent(path)}&value=${encodeURIComponent(text)}`;
  return `https://github.com/${repository}/new/${encodeURIComponent(branch)}?${query}`;
}
