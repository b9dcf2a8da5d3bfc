// The churn list's selection: the header box ticks every row of the page, and ticking a row
// chooses "the selected customers" again after "all matching" was picked.
(function () {
  "use strict";

  function setUp() {
    const form = document.getElementById("churn-follow-ups");
    if (!form) return;
    const pageBox = document.getElementById("select-page");
    const rowBoxes = Array.from(form.querySelectorAll("input.row-select"));
    const selectedTarget = form.querySelector("input[name=target][value=selected]");
    if (pageBox) {
      pageBox.addEventListener("change", () => {
        rowBoxes.forEach((box) => { box.checked = pageBox.checked; });
        if (selectedTarget) selectedTarget.checked = true;
      });
    }
    rowBoxes.forEach((box) => box.addEventListener("change", () => {
      if (selectedTarget) selectedTarget.checked = true;
      if (pageBox) pageBox.checked = rowBoxes.every((item) => item.checked);
    }));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
