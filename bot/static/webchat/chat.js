// The chat page: draws the server's view of the conversation and sends one action at a time.
// No framework and no external files: the page must work offline in any current browser.
(function () {
  "use strict";

  var app = document.getElementById("app");
  var api = app.getAttribute("data-api");
  var preview = app.getAttribute("data-mode") === "preview";
  var log = document.getElementById("log");
  var choices = document.getElementById("choices");
  var textForm = document.getElementById("text-form");
  var textBox = document.getElementById("text");
  var backBtn = document.getElementById("back");
  var summaryBtn = document.getElementById("summary-btn");
  var panel = document.getElementById("panel");
  var panelBody = document.getElementById("panel-body");
  var progress = document.getElementById("progress");

  var view = null; // the last view the server sent
  var token = null; // preview only: the signed conversation state
  var busy = false;
  var shownState = null; // the question last drawn in the log, so it is not repeated
  var firstDraw = true;
  var lastAction = null;

  // ------------------------------------------------------------------ drawing helpers

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function scrollDown() {
    window.requestAnimationFrame(function () {
      log.scrollTop = log.scrollHeight;
      window.scrollTo(0, document.body.scrollHeight);
    });
  }

  function bubble(kind, text, extra) {
    var node = el("div", "bubble " + kind);
    if (text) node.appendChild(el("div", "bubble-text", text));
    if (extra) node.appendChild(extra);
    log.appendChild(node);
    scrollDown();
    return node;
  }

  function maskId(text) {
    var t = String(text).replace(/\s+/g, "");
    return t.length > 8 ? t.slice(0, 4) + "*".repeat(t.length - 8) + t.slice(-4) : t;
  }

  function button(label, cls, onClick) {
    var b = el("button", cls || "choice", label);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function summaryTable(items, editable) {
    var list = el("dl", "summary");
    items.forEach(function (item) {
      var row = el("div", "summary-row");
      row.appendChild(el("dt", null, item.label));
      var dd = el("dd", null, item.value);
      if (editable && item.editable) {
        var edit = button("修改", "edit", function () {
          closePanel();
          send("edit", { field: item.name }, "修改：" + item.label);
        });
        edit.setAttribute("data-field", item.name);
        dd.appendChild(edit);
      }
      row.appendChild(dd);
      list.appendChild(row);
    });
    return list;
  }

  // ------------------------------------------------------------------ talking to the server

  function request(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-Canbao-Chat": "1", Accept: "application/json" },
    };
    if (method !== "GET") {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    return fetch(api + path, options).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return { error: "服务器返回的内容无法读取，请稍后刷新页面。" };
          })
          .then(function (data) {
            return { status: response.status, data: data };
          });
      },
      function () {
        return { status: 0, data: { error: "网络连接失败，请检查网络后再试。您已填写的内容不会丢失。" } };
      }
    );
  }

  var answered = 0; // responses drawn so far, exposed for automated checks of the page

  function handle(result) {
    var data = result.data || {};
    if (data.token) token = data.token;
    if (data.error) bubble("bot error", data.error);
    if (data.message) bubble("bot success", data.message);
    if (data.view) render(data.view);
    else if (!view) setControls([]);
    answered += 1;
    app.setAttribute("data-responses", String(answered));
  }

  function send(action, body, echo) {
    if (busy) return;
    busy = true;
    lastAction = action;
    setBusy(true);
    if (echo) bubble("me", echo);
    var payload = body || {};
    if (preview) {
      payload.token = token;
    } else if (action !== "identity") {
      payload.version = view ? view.version : 0;
    }
    request("POST", "/" + action, payload).then(function (result) {
      busy = false;
      setBusy(false);
      handle(result);
    });
  }

  function setBusy(on) {
    app.classList.toggle("busy", on);
    Array.prototype.forEach.call(document.querySelectorAll(".composer button"), function (b) {
      if (on) b.setAttribute("data-busy", "1");
      else b.removeAttribute("data-busy");
    });
  }

  // ------------------------------------------------------------------ the composer

  function setControls(buttons, textOptions) {
    choices.innerHTML = "";
    buttons.forEach(function (b) {
      choices.appendChild(b);
    });
    if (textOptions) {
      textForm.hidden = false;
      textBox.value = "";
      textBox.placeholder = textOptions.placeholder || "在这里输入";
      textBox.setAttribute("inputmode", textOptions.inputmode || "text");
      textForm.onsubmit = function (event) {
        event.preventDefault();
        var value = textBox.value;
        if (!value.trim() && !textOptions.allowEmpty) {
          textBox.focus();
          return;
        }
        textOptions.submit(value);
      };
      if (!("ontouchstart" in window)) textBox.focus();
    } else {
      textForm.hidden = true;
      textForm.onsubmit = null;
    }
  }

  function questionControls(prompt) {
    var buttons = [];
    var multi = prompt.kind === "select_multiple";
    if (prompt.kind === "note") {
      buttons.push(button("我已阅读，继续", "choice primary", function () {
        send("answer", { text: "" }, "我已阅读");
      }));
    }
    prompt.choices.forEach(function (choice) {
      if (multi) {
        var b = button((choice.selected ? "✓ " : "") + choice.label, "choice toggle" + (choice.selected ? " on" : ""), function () {
          send("toggle", { code: choice.code });
        });
        b.setAttribute("aria-pressed", choice.selected ? "true" : "false");
        buttons.push(b);
      } else {
        buttons.push(button(choice.label, "choice", function () {
          send("answer", { text: choice.code }, choice.label);
        }));
      }
    });
    if (multi) {
      var picked = prompt.choices.filter(function (c) { return c.selected; });
      buttons.push(button("完成", "choice primary", function () {
        send("finish", {}, picked.map(function (c) { return c.label; }).join("、") || "完成");
      }));
    }
    if (prompt.current !== null && !multi && prompt.kind !== "confirm") {
      buttons.push(button("确认：" + prompt.current, "choice primary keep", function () {
        send("keep", {}, prompt.current);
      }));
    }
    if (prompt.optional) {
      buttons.push(button("跳过", "choice secondary", function () {
        send("skip", {}, "跳过");
      }));
    }
    var text = null;
    if (prompt.allow_text && prompt.kind !== "note" && prompt.kind !== "confirm") {
      var numeric = prompt.kind === "mobile";
      text = {
        placeholder: prompt.current !== null ? "输入新的内容，或点上面的“确认”" : "在这里输入",
        inputmode: numeric ? "numeric" : "text",
        submit: function (value) {
          send("answer", { text: value }, prompt.kind === "id_number" ? maskId(value) : value);
        },
      };
    }
    setControls(buttons, text);
  }

  // ------------------------------------------------------------------ the stages

  function drawQuestion(prompt) {
    // Toggling an option of a multi-select redraws its buttons, not the question.
    if (lastAction === "toggle" && shownState === prompt.state) {
      questionControls(prompt);
      return;
    }
    var extra = el("div", "bubble-extra");
    if (prompt.hint) extra.appendChild(el("div", "hint", prompt.hint));
    if (prompt.current !== null && prompt.kind !== "confirm") {
      extra.appendChild(el("div", "current", (prompt.prefilled ? "登记信息中为：" : "已填写：") + prompt.current));
    }
    if (prompt.kind === "select_multiple") extra.appendChild(el("div", "hint", "可以多选，选好后点“完成”。"));
    var label = prompt.label + (prompt.optional ? "（可不填）" : "");
    var node = bubble("bot question", label, extra);
    node.setAttribute("data-state", prompt.state);
    shownState = prompt.state;
    questionControls(prompt);
  }

  function drawReview(v) {
    var extra = el("div", "bubble-extra");
    extra.appendChild(summaryTable(v.summary, true));
    v.warnings.forEach(function (w) {
      extra.appendChild(el("div", "warning", "⚠ " + w.message));
    });
    bubble("bot review", "请核对您填写的信息。需要修改的，点该项的“修改”。", extra);
    var buttons = [];
    if (v.warnings.length) {
      buttons.push(button("答案无误，继续", "choice primary", function () {
        confirmThenProceed();
      }));
    } else {
      buttons.push(button("确认无误，继续", "choice primary", function () {
        send("proceed", {}, "确认无误");
      }));
    }
    setControls(buttons);
  }

  function confirmThenProceed() {
    if (busy) return;
    busy = true;
    bubble("me", "答案无误");
    var body = preview ? { token: token } : { version: view.version };
    request("POST", "/confirm_warnings", body).then(function (result) {
      busy = false;
      if (result.status !== 200) return handle(result);
      if (result.data.token) token = result.data.token;
      view = result.data.view;
      send("proceed", {});
    });
  }

  function drawComplete(v) {
    var extra = el("div", "bubble-extra");
    extra.appendChild(summaryTable(v.summary, false));
    var buttons = [];
    if (v.returned) {
      bubble("bot", "表格已重新填好。如还需修改请点“修改”，否则请点“重新提交”。", extra);
      buttons.push(button("重新提交", "choice primary", function () { send("submit", {}, "重新提交"); }));
      buttons.push(button("修改", "choice secondary", function () { send("reopen", {}, "修改"); }));
    } else {
      bubble("bot", "全部填写完成。确认无误后请点“提交”。", extra);
      buttons.push(button("提交", "choice primary", function () { send("submit", {}, "提交"); }));
    }
    setControls(buttons);
  }

  function drawFinished(v) {
    var extra = el("div", "bubble-extra");
    if (v.summary && v.summary.length) extra.appendChild(summaryTable(v.summary, false));
    var text = v.preview
      ? "预览结束：以下是将会保存的内容（预览不会保存）。"
      : "登记编号 " + v.reference + "，当前状态：" + v.status_text + "。";
    bubble("bot done", text, extra);
    (v.policy_notes || []).forEach(function (note) {
      bubble("bot policy", note);
    });
    setControls([]);
  }

  function render(v) {
    var before = view;
    view = v;
    var stage = v.stage;
    app.setAttribute("data-stage", stage);
    app.setAttribute("data-state", v.prompt ? v.prompt.state : "");
    (v.notices || []).forEach(function (text) {
      bubble("bot notice", text);
    });
    if (firstDraw && v.person && stage !== "identity" && stage !== "locked") {
      bubble("bot", "您好！这是 " + v.person.name + "（" + v.person.id + "）的全民参保登记。");
    }
    // The reviewer's comment, unless the notification just shown already carried it.
    if (v.returned && (!before || !before.returned) && !(v.notices || []).length) {
      var text = "社保经办机构退回了您的登记，请修改后重新提交。意见：" + v.returned.comment;
      if (v.returned.fields.length) text += "（需修改：" + v.returned.fields.join("、") + "）";
      bubble("bot notice", text);
    }
    if (firstDraw && (stage === "question" || stage === "review") && v.summary && v.summary.length) {
      var extra = el("div", "bubble-extra");
      extra.appendChild(summaryTable(v.summary, false));
      bubble("bot", "您已填写的内容（接着上次的进度继续）：", extra);
    }
    backBtn.disabled = !v.can_back;
    summaryBtn.disabled = !(v.summary && v.summary.length) || !(stage === "question" || stage === "review");
    progress.textContent = v.prompt && v.prompt.total ? "第 " + v.prompt.step + "/" + v.prompt.total + " 题" : "";

    if (stage === "identity") {
      if (firstDraw) {
        bubble("bot", "您好！这里是苏州市全民参保登记。本次登记对象：" + v.person.surname + "某（" + v.person.community + "）。");
      }
      bubble("bot question", "请输入登记对象的18位公民身份号码，核对身份后开始填写。", el("div", "hint", "还可以尝试 " + v.attempts_left + " 次"));
      setControls([], {
        placeholder: "18位公民身份号码",
        submit: function (value) { send("identity", { id_number: value }, maskId(value)); },
      });
    } else if (stage === "locked" || stage === "duplicate") {
      bubble("bot error", v.message);
      setControls([]);
    } else if (stage === "question") {
      drawQuestion(v.prompt);
    } else if (stage === "review") {
      shownState = null;
      drawReview(v);
    } else if (stage === "complete") {
      shownState = null;
      drawComplete(v);
    } else {
      drawFinished(v);
    }
    firstDraw = false;
  }

  // ------------------------------------------------------------------ the summary panel

  function openPanel() {
    if (!view || !view.summary) return;
    panelBody.innerHTML = "";
    panelBody.appendChild(summaryTable(view.summary, true));
    panel.hidden = false;
  }

  function closePanel() {
    panel.hidden = true;
  }

  backBtn.addEventListener("click", function () { send("back", {}, "返回上一题"); });
  summaryBtn.addEventListener("click", openPanel);
  document.getElementById("panel-close").addEventListener("click", closePanel);

  function startPreview(mode) {
    token = null;
    view = null;
    firstDraw = true;
    shownState = null;
    log.innerHTML = "";
    request("POST", "/state", { mode: mode }).then(handle);
  }

  if (preview) {
    document.getElementById("restart").addEventListener("click", function () { startPreview("resident"); });
    document.getElementById("restart-investigator").addEventListener("click", function () { startPreview("investigator"); });
    startPreview("resident");
  } else {
    request("GET", "/state").then(handle);
  }
})();
