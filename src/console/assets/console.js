// The console works without this script; with it, a form cannot be sent twice by a double
// click (a weighing recorded twice is worse than a click that seems slow).
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sent === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
});
