/* Feedback Commons share-a-story form: written for this project. Progressive enhancement:
   without JavaScript the page offers a template to copy and plain instructions. With it, the
   form appears, is checked in the browser (the HTML constraints the build wrote from the
   schemas, plus the few rules they cannot say), and makes the story file: GitHub's new-file
   page opens with it, or it goes privately to the instance's intake route. Nothing typed
   leaves the browser until the contributor follows one of those links. */

import { gitHubNewFileUrl, isoDate, newStoryId, storyPath, storyYaml } from "./story-file.js";

const section = document.querySelector("[data-story-form]");
const form = document.getElementById("story-form");
const config = JSON.parse(document.getElementById(form.getAttribute("data-config")).textContent);
const summary = section.querySelector("[data-error-summary]");
const errorList = section.querySelector("[data-error-list]");
const output = section.querySelector("[data-story-output]");

function labelFor(element) {
  const fieldset = element.type === "radio" ? element.closest("fieldset") : null;
  if (fieldset) {
    return fieldset.querySelector("legend").textContent.trim();
  }
  const label = form.querySelector(`label[for="${element.id}"]`);
  return label ? label.textContent.trim() : element.name;
}

function words(text) {
  return text.trim() ? text.trim().split(/\s+/).length : 0;
}

function problems() {
  const found = [];
  const seen = new Set();
  for (const element of form.elements) {
    element.removeAttribute("aria-invalid");
    if (!element.willValidate || element.checkValidity() || seen.has(element.name)) {
      continue;
    }
    seen.add(element.name);
    element.setAttribute("aria-invalid", "true");
    found.push([element, `${labelFor(element)}: ${element.validationMessage}`]);
  }
  const story = form.elements.namedItem(config.textField);
  if (story && story.value.trim() && !seen.has(story.name)) {
    const count = words(story.value);
    const least = Number(story.getAttribute("data-min-words"));
    const most = Number(story.getAttribute("data-max-words"));
    if (count < least || count > most) {
      story.setAttribute("aria-invalid", "true");
      found.push([story, `${labelFor(story)}: use between ${least} and ${most} words (now ${count}).`]);
    }
  }
  const ratings = ratingAnswers();
  const overall = config.requiredDimension;
  if (overall && Object.keys(ratings).length && ratings[overall] === undefined) {
    const first = form.querySelector(`[name="ratings.${overall}"]`);
    found.push([first, `${labelFor(first)}: you rated other things, so please rate this too.`]);
  }
  return found;
}

function showProblems(found) {
  errorList.replaceChildren();
  for (const [element, message] of found) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = `#${element.id}`;
    link.textContent = message;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      element.focus();
    });
    item.append(link);
    errorList.append(item);
  }
  summary.hidden = found.length === 0;
  if (found.length) {
    summary.focus();
  }
}

function ratingAnswers() {
  const ratings = {};
  for (const dimension of config.dimensions) {
    const value = new FormData(form).get(`ratings.${dimension}`);
    if (value) {
      ratings[dimension] = Number(value);
    }
  }
  return ratings;
}

function answers(route, today, storyId) {
  const data = new FormData(form);
  const values = {};
  for (const field of config.fields) {
    const given = data.get(field.name);
    values[field.name] = typeof given === "string" ? given.trim() : given;
  }
  Object.assign(values, config.fixed, {
    [config.idField]: storyId,
    [config.dateField]: today,
    [config.consentField]: data.get(config.consentField) ? true : "",
  });
  if (route !== "github" && config.privateVia) {
    values[config.viaField] = config.privateVia;
  }
  const tags = {};
  for (const kind of config.tagKinds) {
    tags[kind] = data.getAll(`tags.${kind}`);
  }
  return [values, tags];
}

function random(count) {
  return crypto.getRandomValues(new Uint8Array(count));
}

function finish(route, text, path) {
  const next = output.querySelector("[data-output-next]");
  const link = output.querySelector("[data-output-link]");
  output.querySelector("[data-output-text]").value = text;
  if (route === "email") {
    const subject = `A story for ${config.title}`;
    link.href = `mailto:${config.intakeEmail}?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(text)}`;
    link.textContent = `E-mail your story to ${config.intakeEmail}`;
    next.textContent = "Your e-mail program opens with the story in the message. Send it, and a moderator will check it before it is published.";
  } else if (route === "intake") {
    const body = "```yaml\n" + text + "```\n";
    link.href = `https://github.com/${config.intakeRepository}/issues/new?title=${encodeURIComponent(path)}&body=${encodeURIComponent(body)}`;
    link.textContent = `Open an issue in ${config.intakeRepository} with your story`;
    next.textContent = "Only people the moderators have given access can open it. A moderator checks the story before it is published.";
  } else {
    link.href = gitHubNewFileUrl(config.repository, config.branch, path, text);
    link.textContent = "Open GitHub's new-file page with your story";
    next.textContent = `GitHub asks you to sign in, then shows the new file ${path}. Choose "Commit changes" and then "Create pull request"; an automatic check tells you if anything needs fixing.`;
    window.open(link.href, "_blank", "noopener");
  }
  output.hidden = false;
  output.focus();
}

if (section && form) {
  section.hidden = false;
  // A provider page's "share your story" link names the provider: choose it in advance.
  const chosen = new URLSearchParams(window.location.search).get("provider");
  const providers = form.elements.namedItem("provider");
  if (chosen && providers && Array.from(providers.options).some((o) => o.value === chosen)) {
    providers.value = chosen;
  }
  form.noValidate = true; // the summary below replaces the browser's one-at-a-time bubbles
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const route = event.submitter ? event.submitter.value : "github";
    const found = problems();
    showProblems(found);
    if (found.length) {
      output.hidden = true;
      return;
    }
    const now = new Date();
    const storyId = newStoryId(now, random);
    const [values, tags] = answers(route, isoDate(now), storyId);
    const text = storyYaml(config, values, ratingAnswers(), tags);
    finish(route, text, storyPath(config, storyId));
  });
}
