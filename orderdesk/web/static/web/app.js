/* Orderdesk: the menu, pop-up dialogs, and photo limits checked before upload. */
(function () {
  "use strict";

  // The "three lines" button opens and closes the menu on narrow screens.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".menu-button");
    if (button) {
      var menu = document.getElementById(button.getAttribute("aria-controls"));
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", String(open));
      menu.classList.toggle("open", open);
      return;
    }
    var closer = event.target.closest("[data-close-dialog]");
    if (closer) {
      closer.closest("dialog").close();
    }
    // A tap outside the open menu closes it.
    var openMenu = document.querySelector(".site-menu.open");
    if (openMenu && !event.target.closest(".site-menu")) {
      openMenu.classList.remove("open");
      document.querySelector(".menu-button").setAttribute("aria-expanded", "false");
    }
  });

  // Dialogs fetched into #dialog-slot open as modal pop-ups (and again after a refusal).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "dialog-slot") return;
    var dialog = event.detail.target.querySelector("dialog[data-modal]");
    if (dialog && !dialog.open) {
      dialog.showModal();
      // A pop-up with nothing to fill in (Verify payment) keeps the browser's own focus.
      var first = dialog.querySelector("[aria-invalid=true]") || dialog.querySelector("textarea, input:not([type=hidden])");
      if (first) first.focus();
    }
  });
  document.addEventListener("close", function (event) {
    if (event.target.matches && event.target.matches("dialog[data-modal]")) event.target.remove();
  }, true);

  // Photo limits: refuse too many or too large files before sending them.
  // The server checks again (and decodes each file); this only saves a slow upload.
  function photoProblem(input) {
    var maxFiles = Number(input.dataset.maxFiles);
    var maxBytes = Number(input.dataset.maxBytes);
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length > maxFiles) {
      return "You can attach " + input.dataset.limitsText + "; you chose " + files.length + " files.";
    }
    for (var i = 0; i < files.length; i++) {
      if (files[i].size > maxBytes) {
        return "\u201c" + files[i].name + "\u201d is larger than " + input.dataset.maxSizeText + ".";
      }
    }
    return "";
  }

  function showPhotoProblem(input, problem) {
    var field = input.closest(".field");
    var box = field.querySelector(".field-error");
    if (!problem) {
      if (box) box.remove();
      input.removeAttribute("aria-invalid");
      field.classList.remove("has-error");
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.className = "field-error";
      box.id = input.id + "_error";
      box.setAttribute("role", "alert");
      field.appendChild(box);
    }
    box.innerHTML = "";
    var line = document.createElement("p");
    line.textContent = problem;
    box.appendChild(line);
    input.setAttribute("aria-invalid", "true");
    field.classList.add("has-error");
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    // Choosing a status or a sort shows it at once (htmx takes the submit when it is loaded).
    if (input.matches && input.matches("select[data-submit-on-change]")) {
      input.form.requestSubmit();
      return;
    }
    if (input.matches && input.matches("input[type=file][data-max-files]")) {
      showPhotoProblem(input, photoProblem(input));
    }
  });

  // Once a refused field is changed, its old message no longer applies.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[aria-invalid=true]:not([type=file])")) return;
    var field = input.closest(".field");
    var box = field && field.querySelector(".field-error");
    if (box) box.remove();
    input.removeAttribute("aria-invalid");
    if (field) field.classList.remove("has-error");
  });

  // Capture phase: runs before htmx sees the submit, so a refused form is never sent.
  document.addEventListener("submit", function (event) {
    var inputs = event.target.querySelectorAll("input[type=file][data-max-files]");
    for (var i = 0; i < inputs.length; i++) {
      var problem = photoProblem(inputs[i]);
      if (problem) {
        showPhotoProblem(inputs[i], problem);
        event.preventDefault();
        event.stopPropagation();
        inputs[i].focus();
        return;
      }
    }
  }, true);
})();
