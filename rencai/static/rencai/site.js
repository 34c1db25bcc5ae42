// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";
  // Django's JavaScript catalog (/jsi18n/) defines gettext when it is loaded.
  var gettext = typeof window.gettext === "function" ? window.gettext : function (s) { return s; };
  var interpolate = typeof window.interpolate === "function" ? window.interpolate
    : function (fmt, args) { return fmt.replace("%s", args[0]); };
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  // "获取验证码": send the code without reloading the form, then count down 60 s.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest(".sms-send");
    if (!btn) return;
    ev.preventDefault();
    var phone = document.getElementById(btn.dataset.phoneField);
    var status = btn.closest(".field").querySelector(".sms-status");
    var body = new URLSearchParams({ phone: phone ? phone.value : "", purpose: btn.dataset.purpose });
    btn.disabled = true;
    fetch(btn.dataset.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      status.textContent = data.message;
      status.classList.toggle("error", !data.ok);
      if (!data.ok) { btn.disabled = false; return; }
      var left = 60, label = btn.textContent;
      var timer = setInterval(function () {
        left -= 1;
        btn.textContent = left + "s";
        if (left <= 0) { clearInterval(timer); btn.disabled = false; btn.textContent = label; }
      }, 1000);
    }).catch(function () { btn.disabled = false; status.textContent = gettext("网络错误，请稍后再试。"); });
  });
  // Click (or press Enter/Space on) the captcha picture for a new one.
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("button.captcha-refresh");
    if (!btn) return;
    var img = btn.querySelector("img.captcha");
    fetch("/captcha/refresh/", { headers: { "X-Requested-With": "XMLHttpRequest" } })
      .then(function (r) { return r.json(); }).then(function (data) {
        img.src = data.image_url;
        var key = btn.parentNode.querySelector("input[type=hidden]");
        if (key) key.value = data.key;
      });
  });
  // The notice must stay open its minimum time (F29): the link to the form waits.
  document.querySelectorAll("a.notice-continue[data-wait]").forEach(function (link) {
    var left = parseInt(link.dataset.wait, 10) || 0;
    if (left <= 0) return;
    var label = link.textContent, href = link.getAttribute("href");
    var status = document.querySelector(".notice-wait");
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
    link.classList.add("disabled");
    var tick = function () {
      if (left <= 0) {
        clearInterval(timer);
        link.setAttribute("href", href);
        link.removeAttribute("aria-disabled");
        link.classList.remove("disabled");
        link.textContent = label;
        if (status) status.textContent = gettext("可以开始填写了。");
        return;
      }
      link.textContent = label + "（" + left + "s）";
      left -= 1;
    };
    var timer = setInterval(tick, 1000);
    tick();
  });
  // Keyword search for a long list (F29: "输入单位名称（可输入关键词）"): a box above
  // the select hides the options that do not contain the words typed.
  document.querySelectorAll("select[data-searchable]").forEach(function (select) {
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "_search";
    box.className = "select-search";
    box.setAttribute("aria-label", gettext("输入关键词查找单位"));
    box.placeholder = gettext("输入关键词查找单位");
    box.setAttribute("aria-controls", select.id);
    var count = document.createElement("p");
    count.className = "hint";
    count.setAttribute("aria-live", "polite");
    select.parentNode.insertBefore(box, select);
    select.parentNode.insertBefore(count, select);
    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0, first = null;
      Array.prototype.forEach.call(select.options, function (opt) {
        if (!opt.value) return;
        var text = opt.text.toLowerCase();
        var match = words.every(function (w) { return text.indexOf(w) >= 0; });
        opt.hidden = !match;
        opt.disabled = !match;
        if (match) { shown += 1; if (!first) first = opt; }
      });
      count.textContent = words.length ? interpolate(gettext("找到 %s 个单位"), [shown]) : "";
      if (first && select.selectedOptions[0] && select.selectedOptions[0].hidden) select.value = "";
      if (shown === 1) select.value = first.value;
    });
  });
  // Confirm before anything irreversible.
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.dataset.confirm;
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
  // Dialogs (AGENCY guide: each indicator, the new application and 上报 in a window). The
  // links work without this file: they load the page with the dialog open in place.
  function openDialog(dialog) {
    if (!dialog || typeof dialog.showModal !== "function") return false;
    if (dialog.open) dialog.close();
    dialog.showModal();
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea, button");
    if (first) first.focus();
    return true;
  }
  document.addEventListener("click", function (ev) {
    var opener = ev.target.closest("[data-dialog]");
    if (opener && openDialog(document.getElementById(opener.dataset.dialog))) {
      ev.preventDefault();
      return;
    }
    var closer = ev.target.closest("[data-close-dialog]");
    var dialog = closer && closer.closest("dialog");
    if (dialog && dialog.open) { ev.preventDefault(); dialog.close(); }
  });
  document.querySelectorAll("dialog[data-autoshow]").forEach(openDialog);
  // Bars and progress (statistics, batch jobs): the width comes from data-width, set here
  // through the CSSOM because the Content-Security-Policy forbids style="" attributes.
  document.querySelectorAll("[data-width]").forEach(function (el) {
    var width = parseFloat(el.dataset.width);
    if (!isNaN(width)) el.style.width = Math.max(0, Math.min(100, width)) + "%";
  });
  // 显示完整号码 (issue 8): ask for the full value in place; the server audits each reveal.
  // Without this file the form opens a page with the value.
  document.addEventListener("submit", function (ev) {
    var form = ev.target.closest("form.reveal-form");
    if (!form || ev.defaultPrevented) return;
    ev.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error(r.status);
      return r.json();
    }).then(function (data) {
      var value = form.parentNode.querySelector(".reveal-value");
      value.textContent = data.value;
      value.classList.add("revealed");
      form.remove();
    }).catch(function () { button.disabled = false; });
  });
})();
