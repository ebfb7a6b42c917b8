// The try-it page of mod_classify (ClassifyPage On): sends the text to the module's own JSON
// API and shows the answer, a bar per class and the explanation drawn on the text. Every piece
// of text is put in the page with textContent, never as HTML.
"use strict";

(function () {
  const main = document.getElementById("classify-page");
  const form = document.getElementById("form");
  const input = document.getElementById("text");
  const submit = document.getElementById("submit");
  const error = document.getElementById("error");
  const result = document.getElementById("result");
  const task = main.dataset.task;
  const classCount = Number(main.dataset.classes);
  const explainCount = Number(main.dataset.explain);
  // The API lives at this very URL: the <Location> the page was served for.
  const endpoint = window.location.pathname;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function number(value) {
    if (!Number.isFinite(value)) return String(value);
    const magnitude = Math.abs(value);
    return magnitude !== 0 && (magnitude < 0.001 || magnitude >= 1e6)
      ? value.toExponential(3) : value.toFixed(4);
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  async function classify() {
    error.hidden = true;
    const text = input.value;
    const request = { text: text };
    if (task !== "regression") request.top = classCount;
    if (explainCount > 0) {
      request.explain = explainCount;
      request.places = true;
    }
    submit.disabled = true;
    try {
      const response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(request),
      });
      const answer = await response.json();
      if (!response.ok) {
        showError(answer.error || ("the server answered " + response.status));
        return;
      }
      render(text, answer);
    } catch (failure) {
      showError("No answer from the server: " + failure.message);
    } finally {
      submit.disabled = false;
    }
  }

  function render(text, answer) {
    renderAnswer(answer);
    renderBars(answer);
    renderExplanation(text, answer);
    result.hidden = false;
  }

  function renderAnswer(answer) {
    const place = document.getElementById("answer");
    place.replaceChildren();
    if (task === "regression") {
      place.append("Predicted value: ", element("strong", "", number(answer.value)));
      place.dataset.answer = String(answer.value);
    } else if (task === "multi_label") {
      place.append(answer.labels.length ? "Labels: " : "No label applies.");
      for (const label of answer.labels) place.append(element("span", "tag", String(label)));
      place.dataset.answer = JSON.stringify(answer.labels.map(String));
    } else {
      place.append("Predicted class: ", element("strong", "", String(answer.label)));
      place.dataset.answer = String(answer.label);
    }
  }

  // One bar per class, in the API's ranking: probabilities from 0 to 1 when the model has them,
  // else decision values on an axis through 0.
  function renderBars(answer) {
    const ranking = document.getElementById("ranking");
    const bars = document.getElementById("bars");
    bars.replaceChildren();
    if (!answer.top) {
      ranking.hidden = true;
      return;
    }
    ranking.hidden = false;
    const probabilities = answer.top.every((entry) => entry.probability !== undefined);
    document.getElementById("bars-title").textContent =
      probabilities ? "Probability per class" : "Decision value per class";
    const values = answer.top.map((entry) => probabilities ? entry.probability : entry.score);
    const low = probabilities ? 0 : Math.min(0, ...values);
    const high = probabilities ? 1 : Math.max(0, ...values);
    const span = high - low || 1;
    const chosen = new Set(task === "multi_label" ? answer.labels.map(String) : [String(answer.label)]);
    answer.top.forEach((entry, index) => {
      const value = values[index];
      const label = String(entry.label);
      const row = element("div", "bar-label", label);
      const track = element("div", "bar-track");
      const bar = element("div", "bar" + (value < 0 ? " negative" : "") + (chosen.has(label) ? " chosen" : ""));
      const start = (Math.min(0, value) - low) / span;
      bar.style.left = (100 * start) + "%";
      bar.style.width = (100 * Math.abs(value) / span) + "%";
      bar.title = label + ": " + number(value);
      track.append(bar);
      if (!probabilities) {
        const axis = element("div", "bar-axis");
        axis.style.left = (100 * (0 - low) / span) + "%";
        track.append(axis);
      }
      const shown = element("div", "bar-value", number(value));
      row.dataset.label = label;
      bars.append(row, track, shown);
    });
  }

  function renderExplanation(text, answer) {
    const none = document.getElementById("no-explanation");
    const explanation = document.getElementById("explanation");
    const unavailable = main.dataset.explainUnavailable;
    if (unavailable || !answer.explanation) {
      none.textContent = unavailable || "This model gives no explanation.";
      none.hidden = false;
      explanation.hidden = true;
      return;
    }
    none.hidden = true;
    explanation.hidden = false;
    const entries = answer.explanation;
    const rows = document.querySelector("#contributions tbody");
    rows.replaceChildren();
    for (const entry of entries) {
      const row = element("tr");
      row.append(element("td", "", entry.feature));
      const side = entry.contribution >= 0 ? "for" : "against";
      row.append(element("td", "number " + side, number(entry.contribution)));
      row.dataset.feature = entry.feature;
      rows.append(row);
    }
    drawOnText(text, entries);
  }

  // Cuts the text at every boundary of an explained n-gram's places; each piece that some n-grams
  // cover becomes a <mark>, coloured by the sign of their summed contributions.
  function drawOnText(text, entries) {
    const explained = document.getElementById("explained");
    const note = document.getElementById("no-places");
    explained.replaceChildren();
    const located = entries.filter((entry) => Array.isArray(entry.places));
    if (located.length !== entries.length) {
      note.textContent = "This model's n-grams cannot be placed on the text (character n-grams, " +
        "or a text that preprocessing changes); the table lists them.";
      note.hidden = false;
      explained.textContent = text;
      return;
    }
    note.hidden = true;
    const characters = Array.from(text);
    const cuts = new Set([0, characters.length]);
    for (const entry of located) {
      for (const [start, end] of entry.places) {
        cuts.add(start);
        cuts.add(end);
      }
    }
    const sorted = Array.from(cuts).sort((a, b) => a - b);
    for (let i = 0; i + 1 < sorted.length; i++) {
      const [start, end] = [sorted[i], sorted[i + 1]];
      const piece = characters.slice(start, end).join("");
      const covering = located.filter((entry) =>
        entry.places.some(([from, to]) => from <= start && end <= to));
      if (!covering.length) {
        explained.append(document.createTextNode(piece));
        continue;
      }
      const total = covering.reduce((sum, entry) => sum + entry.contribution, 0);
      const mark = element("mark", total >= 0 ? "for" : "against", piece);
      mark.dataset.features = JSON.stringify(covering.map((entry) => entry.feature));
      mark.title = covering.map((entry) => entry.feature + ": " + number(entry.contribution)).join("\n");
      explained.append(mark);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    classify();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
