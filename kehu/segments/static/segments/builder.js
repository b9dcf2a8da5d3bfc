// The segment builder: draws the rule (groups of conditions) from the field catalogue, keeps
// the hidden "rule" input in step as JSON, and asks the server for a live preview (htmx) after
// each change. Every text is set with textContent, so nothing typed is ever parsed as HTML.
(function () {
  "use strict";

  const NO_VALUE = new Set(["is_empty", "is_not_empty", "is_true", "is_false", "within",
    "not_within", "exists"]);
  const LIST_VALUE = new Set(["in", "not_in", "has_any", "has_all", "has_none"]);
  const MODES = ["all", "any", "none"];

  let fields = [];
  let fieldsByKey = {};
  let texts = {};
  let ruleInput = null;
  let root = null;

  // --- the rule as a tree of plain objects --------------------------------------------------

  function newCondition() {
    const first = fields[0];
    return {type: "condition", field: first.key, op: first.operators[0].key, value: "", days: "",
      min_count: ""};
  }

  function newGroup(mode) {
    return {type: "group", mode: mode || "all", children: []};
  }

  function fromRule(rule) {
    if (!rule || typeof rule !== "object") return newGroup("all");
    if (Array.isArray(rule.all)) return {type: "group", mode: "all", children: rule.all.map(fromRule)};
    if (Array.isArray(rule.any)) return {type: "group", mode: "any", children: rule.any.map(fromRule)};
    if (rule.not && typeof rule.not === "object") {
      const inner = rule.not;
      if (Array.isArray(inner.any)) return {type: "group", mode: "none", children: inner.any.map(fromRule)};
      return {type: "group", mode: "none", children: [fromRule(inner)]};
    }
    if (typeof rule.field === "string") {
      return {type: "condition", field: rule.field, op: rule.op || "", value: rule.value ?? "",
        days: rule.days ?? "", min_count: rule.min_count ?? ""};
    }
    return newGroup("all");
  }

  function toRule(node) {
    if (node.type === "group") {
      const children = node.children.map(toRule);
      if (node.mode === "any") return {any: children};
      if (node.mode === "none") return {not: {any: children}};
      return {all: children};
    }
    const condition = {field: node.field, op: node.op};
    if (!NO_VALUE.has(node.op)) condition.value = node.value;
    const field = fieldsByKey[node.field];
    if (field && field.needs_days && node.days !== "") condition.days = Number(node.days);
    if (field && field.has_min_count && node.min_count !== "") condition.min_count = Number(node.min_count);
    return condition;
  }

  // The path of a node as the server names it in its errors (`all.2.value`).
  function childPath(groupPath, mode, index) {
    const prefix = groupPath ? `${groupPath}.` : "";
    const list = mode === "none" ? "not.any" : mode;
    return `${prefix}${list}.${index}`;
  }

  // --- drawing ------------------------------------------------------------------------------

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function option(value, label, selected) {
    const node = element("option", {value: String(value)}, label);
    if (selected) node.selected = true;
    return node;
  }

  function drawGroup(group, path, parent) {
    const box = element("div", {class: "rule-group", "data-path": path});
    const head = element("div", {class: "rule-group-head"});
    const mode = element("select", {"aria-label": texts.match, class: "group-mode"});
    MODES.forEach((name) => mode.append(option(name, texts[`mode_${name}`], group.mode === name)));
    mode.addEventListener("change", () => { group.mode = mode.value; changed(); });
    head.append(mode);
    const addCondition = element("button", {type: "button", class: "small add-condition"}, texts.add_condition);
    addCondition.addEventListener("click", () => { group.children.push(newCondition()); changed(); });
    const addGroup = element("button", {type: "button", class: "small add-group"}, texts.add_group);
    addGroup.addEventListener("click", () => { group.children.push(newGroup("any")); changed(); });
    head.append(addCondition, addGroup);
    if (parent) {
      const remove = element("button", {type: "button", class: "small danger remove"}, texts.remove_group);
      remove.addEventListener("click", () => { parent.children.splice(parent.children.indexOf(group), 1); changed(); });
      head.append(remove);
    }
    box.append(head);
    const errors = element("div", {class: "rule-error", "data-errors-for": path});
    box.append(errors);
    group.children.forEach((child, index) => {
      const itemPath = childPath(path, group.mode, index);
      box.append(child.type === "group" ? drawGroup(child, itemPath, group) : drawCondition(child, itemPath, group));
    });
    if (!group.children.length) box.append(element("p", {class: "muted"}, texts.empty_group));
    return box;
  }

  function drawCondition(condition, path, parent) {
    const row = element("div", {class: "rule-condition", "data-path": path});
    let field = fieldsByKey[condition.field];
    if (!field) { field = fields[0]; condition.field = field.key; }
    if (!field.operators.some((operator) => operator.key === condition.op)) condition.op = field.operators[0].key;

    const fieldSelect = element("select", {"aria-label": texts.field, class: "condition-field"});
    const groups = {};
    fields.forEach((candidate) => {
      if (!groups[candidate.group]) {
        groups[candidate.group] = element("optgroup", {label: candidate.group_label});
        fieldSelect.append(groups[candidate.group]);
      }
      groups[candidate.group].append(option(candidate.key, candidate.label, candidate.key === field.key));
    });
    fieldSelect.addEventListener("change", () => {
      condition.field = fieldSelect.value;
      condition.op = fieldsByKey[condition.field].operators[0].key;
      condition.value = "";
      changed();
    });

    const operatorSelect = element("select", {"aria-label": texts.operator, class: "condition-operator"});
    field.operators.forEach((operator) => operatorSelect.append(option(operator.key, operator.label, operator.key === condition.op)));
    operatorSelect.addEventListener("change", () => {
      const wasList = LIST_VALUE.has(condition.op) || condition.op === "between";
      condition.op = operatorSelect.value;
      const isList = LIST_VALUE.has(condition.op) || condition.op === "between";
      if (wasList !== isList) condition.value = "";
      changed();
    });

    const valueBox = element("div", {class: "value"});
    drawValue(condition, field, valueBox);
    const remove = element("button", {type: "button", class: "small danger remove", "aria-label": texts.remove_condition}, "×");
    remove.addEventListener("click", () => { parent.children.splice(parent.children.indexOf(condition), 1); changed(); });
    row.append(fieldSelect, operatorSelect, valueBox, remove);
    row.append(element("div", {class: "rule-error", "data-errors-for": path}));
    return row;
  }

  function inputFor(field, value, onInput) {
    const type = field.value_type;
    let input;
    if (field.choices && field.choices.length) {
      input = element("select", {class: "condition-value"});
      input.append(option("", "—", value === ""));
      field.choices.forEach((choice) => input.append(option(choice.value, choice.label, String(choice.value) === String(value))));
    } else {
      const htmlType = {number: "number", money: "number", date: "date"}[type] || "text";
      input = element("input", {type: htmlType, class: "condition-value"});
      if (htmlType === "number") input.setAttribute("step", "any");
      input.value = value ?? "";
    }
    input.setAttribute("aria-label", texts.value);
    input.addEventListener(input.tagName === "SELECT" ? "change" : "input", () => onInput(typed(field, input.value)));
    return input;
  }

  function typed(field, text) {
    if (["number", "money"].includes(field.value_type) && text !== "" && !Number.isNaN(Number(text))) return Number(text);
    if (["store", "user", "category"].includes(field.value_type) && /^\d+$/.test(text)) return Number(text);
    return text;
  }

  function drawValue(condition, field, box) {
    if (LIST_VALUE.has(condition.op)) {
      const chosen = Array.isArray(condition.value) ? condition.value : [];
      if (field.choices && field.choices.length) {
        const select = element("select", {multiple: "", class: "condition-value", "aria-label": texts.value});
        field.choices.forEach((choice) => select.append(option(choice.value, choice.label, chosen.map(String).includes(String(choice.value)))));
        select.addEventListener("change", () => {
          condition.value = Array.from(select.selectedOptions).map((item) => typed(field, item.value));
          changed(false);
        });
        box.append(select);
      } else {
        const input = element("input", {type: "text", class: "condition-value", "aria-label": texts.value,
          placeholder: texts.comma_separated});
        input.value = chosen.join(", ");
        input.addEventListener("input", () => {
          condition.value = input.value.split(/[,，、;；]/).map((part) => part.trim()).filter(Boolean).map((part) => typed(field, part));
          changed(false);
        });
        box.append(input);
      }
    } else if (condition.op === "between") {
      const pair = Array.isArray(condition.value) ? condition.value.slice(0, 2) : ["", ""];
      while (pair.length < 2) pair.push("");
      [0, 1].forEach((index) => {
        if (index === 1) box.append(element("span", {class: "muted"}, texts.and));
        box.append(inputFor(field, pair[index], (value) => { pair[index] = value; condition.value = pair.slice(); changed(false); }));
      });
    } else if (!NO_VALUE.has(condition.op)) {
      box.append(inputFor(field, condition.value, (value) => { condition.value = value; changed(false); }));
    }
    if (field.needs_days) {
      box.append(element("span", {class: "muted"}, texts.in_the_last));
      const days = element("input", {type: "number", min: "1", step: "1", class: "condition-days", "aria-label": texts.days});
      days.value = condition.days ?? "";
      days.style.maxWidth = "90px";
      days.addEventListener("input", () => { condition.days = days.value; changed(false); });
      box.append(days, element("span", {class: "muted"}, texts.days));
    }
    if (field.has_min_count) {
      box.append(element("span", {class: "muted"}, texts.at_least));
      const count = element("input", {type: "number", min: "1", step: "1", class: "condition-min-count", "aria-label": texts.times});
      count.value = condition.min_count ?? "";
      count.style.maxWidth = "80px";
      count.addEventListener("input", () => { condition.min_count = count.value; changed(false); });
      box.append(count, element("span", {class: "muted"}, texts.times));
    }
  }

  // --- keeping the form and the preview in step -----------------------------------------------

  function redraw() {
    const container = document.getElementById("rule-builder");
    container.replaceChildren(drawGroup(root, "", null));
  }

  function changed(shouldRedraw = true) {
    ruleInput.value = JSON.stringify(toRule(root));
    if (shouldRedraw) redraw();
    document.body.dispatchEvent(new CustomEvent("rule-changed"));
  }

  // Put the server's errors next to the condition or group they name, longest path first.
  function showErrors(errors) {
    document.querySelectorAll("#rule-builder [data-errors-for]").forEach((box) => box.replaceChildren());
    document.querySelectorAll("#rule-builder .has-error").forEach((row) => row.classList.remove("has-error"));
    const general = document.getElementById("rule-general-errors");
    if (general) general.replaceChildren();
    Object.entries(errors || {}).forEach(([path, messages]) => {
      let target = null;
      let owner = path;
      while (owner) {
        target = document.querySelector(`#rule-builder [data-errors-for="${CSS.escape(owner)}"]`);
        if (target) break;
        owner = owner.includes(".") ? owner.slice(0, owner.lastIndexOf(".")) : "";
      }
      if (!target) target = document.querySelector('#rule-builder [data-errors-for=""]') || general;
      if (!target) return;
      messages.forEach((message) => target.append(element("div", {}, message)));
      const row = target.closest(".rule-condition");
      if (row) row.classList.add("has-error");
    });
  }

  function readJson(id, fallback) {
    const source = document.getElementById(id);
    return source ? JSON.parse(source.textContent) : fallback;
  }

  function start() {
    const container = document.getElementById("rule-builder");
    if (!container) return;
    fields = readJson("rule-fields", []);
    fieldsByKey = Object.fromEntries(fields.map((field) => [field.key, field]));
    texts = readJson("builder-texts", {});
    ruleInput = document.querySelector("input[name=rule]");
    root = fromRule(readJson("initial-rule", {}));
    if (root.type !== "group") root = {type: "group", mode: "all", children: [root]};
    if (!root.children.length && fields.length) root.children.push(newCondition());
    ruleInput.value = JSON.stringify(toRule(root));
    redraw();
    showErrors(readJson("rule-errors", {}));
    document.body.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target.id === "preview") showErrors(readJson("preview-errors", {}));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
