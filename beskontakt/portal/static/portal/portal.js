// Previews of chosen photos before they are sent (no upload happens until the form is sent).
(function () {
  "use strict";
  var MAX_FILES = 5;
  var MAX_SIZE = 10 * 1024 * 1024;
  var TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

  function showPreviews(input) {
    var box = document.querySelector('[data-previews-for="' + input.id + '"]');
    if (!box) return;
    box.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    box.textContent = "";
    var files = Array.prototype.slice.call(input.files || []);
    var tooMany = input.dataset.tooMany || "Too many files: at most 5.";
    var tooBig = input.dataset.tooBig || "Too large (at most 10 MB):";
    var wrongType = input.dataset.wrongType || "Not a photo:";
    if (files.length > MAX_FILES) {
      var warn = document.createElement("p");
      warn.className = "bad";
      warn.textContent = tooMany;
      box.appendChild(warn);
    }
    files.slice(0, MAX_FILES).forEach(function (file) {
      if (file.size > MAX_SIZE || TYPES.indexOf(file.type) < 0) {
        var bad = document.createElement("p");
        bad.className = "bad";
        bad.textContent = (file.size > MAX_SIZE ? tooBig : wrongType) + " " + file.name;
        box.appendChild(bad);
        return;
      }
      var figure = document.createElement("figure");
      var img = document.createElement("img");
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      var caption = document.createElement("figcaption");
      caption.textContent = file.name;
      figure.appendChild(img);
      figure.appendChild(caption);
      box.appendChild(figure);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file") showPreviews(input);
  });
})();
