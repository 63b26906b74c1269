/* Orderdesk: the menu, pop-up dialogs, photo limits checked before upload, and character counters. */
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
    var types = (input.getAttribute("accept") || "").split(",");
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length > maxFiles) {
      return "You can attach " + input.dataset.limitsText + "; you chose " + files.length + " files.";
    }
    for (var i = 0; i < files.length; i++) {
      // The browser's idea of the type comes from the name; the server still decodes every file.
      if (files[i].type && types.indexOf(files[i].type) === -1) {
        return "\u201c" + files[i].name + "\u201d is not a photo we can read (use JPEG, PNG or WebP).";
      }
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
    input.setAttribute("aria-describedby", box.id);
    field.classList.add("has-error");
  }

  // A file the server refused (it decodes every photo) is not kept chosen behind its message: the
  // choice is emptied and the field outlined, as the page does for files it refuses itself.
  function forgetRefusedPhotos(input) {
    input.value = "";
    input.setAttribute("aria-invalid", "true");
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var inputs = event.detail.elt.querySelectorAll(".field.has-error input[type=file][data-max-files]");
    for (var i = 0; i < inputs.length; i++) {
      var box = inputs[i].closest(".field").querySelector(".field-error");
      forgetRefusedPhotos(inputs[i]);
      if (box) inputs[i].setAttribute("aria-describedby", box.id);
    }
  });

  // Textareas with a limit say how much is used, and say it when a paste was cut to fit.
  function countCharacters(textarea, cut) {
    var limit = Number(textarea.getAttribute("maxlength"));
    var counter = document.getElementById(textarea.id + "_count");
    if (!counter) {
      counter = document.createElement("p");
      counter.className = "char-count";
      counter.id = textarea.id + "_count";
      counter.setAttribute("aria-live", "polite");
      textarea.insertAdjacentElement("afterend", counter);
    }
    var used = textarea.value.length;
    var text = used.toLocaleString("en-US") + " / " + limit.toLocaleString("en-US") + " characters";
    if (cut) {
      text += " \u2014 only the first " + limit.toLocaleString("en-US") + " fit; the rest was left out.";
    } else if (used >= limit) {
      text += " \u2014 that is the limit.";
    }
    counter.textContent = text;
    counter.classList.toggle("at-limit", used >= limit);
  }

  function countAll(root) {
    var textareas = root.querySelectorAll("textarea[maxlength]");
    for (var i = 0; i < textareas.length; i++) countCharacters(textareas[i], false);
  }

  document.addEventListener("DOMContentLoaded", function () { countAll(document); });
  document.addEventListener("htmx:load", function (event) { countAll(event.detail.elt); });

  document.addEventListener("paste", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("textarea[maxlength]")) return;
    var pasted = (event.clipboardData || window.clipboardData).getData("text") || "";
    var kept = textarea.value.length - (textarea.selectionEnd - textarea.selectionStart);
    var cut = kept + pasted.length > Number(textarea.getAttribute("maxlength"));
    setTimeout(function () { countCharacters(textarea, cut); }, 0);
  });

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
    // "Select all on the page": ticks or unticks every box of that name in its form.
    if (input.matches && input.matches("input[type=checkbox][data-select-all]")) {
      // form.elements also holds the boxes outside the form that name it (form="…").
      var name = input.getAttribute("data-select-all");
      var boxes = input.form ? input.form.elements : document.querySelectorAll("input[type=checkbox]");
      for (var b = 0; b < boxes.length; b++) {
        if (boxes[b].type === "checkbox" && boxes[b].name === name) boxes[b].checked = input.checked;
      }
    }
  });

  // Once a refused field is changed, its old message no longer applies.
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (input.matches && input.matches("textarea[maxlength]") && event.inputType !== "insertFromPaste") {
      countCharacters(input, false);
    }
    if (!input.matches || !input.matches("[aria-invalid=true]:not([type=file])")) return;
    var field = input.closest(".field");
    var box = field && field.querySelector(".field-error");
    if (box) box.remove();
    input.removeAttribute("aria-invalid");
    if (field) field.classList.remove("has-error");
  });

  // Capture phase: runs before htmx sees the submit, so a refused form is never sent.
  document.addEventListener("submit", function (event) {
    // An Action menu closes once one of its actions is chosen.
    var menu = event.target.querySelector && event.target.querySelector("details.action-menu[open]");
    if (menu) menu.open = false;
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
