"""The tool's own sentences in Simplified Chinese: English sentence (as written in the code, with its
``{fields}``) -> its translation, for :func:`diagnose.i18n.t`.

Words used throughout: check 检查, cause 原因, solution 解决办法, step 步骤, symptom 症状, evidence 证据,
verdict 结论, problem 有问题, healthy 正常, inconclusive 无法判断, risk 风险, precondition 前置条件,
approve 审批, undo 回退, verify 验证, profile 配置文件, mask 遮蔽; the risks read-only 只读, reversible 可回退,
trading 影响交易, outage 中断服务. Ids, commands, SQL, file names and ``{fields}`` stay as they are; the terminal
labels (``Next step:``) keep an ASCII colon, so the line lines up with what follows it.

``tests/test_i18n_catalog.py`` holds this catalog to the code: every sentence passed to ``t()`` has an entry
here, with the same ``{fields}``, and no entry is left over.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # -- words for enum values a reader sees (the JSON keeps the values) --------------------------------
    "pass": "通过",
    "fail": "失败",
    "error": "出错",
    "timeout": "超时",
    "skip": "跳过",
    "problem": "有问题",
    "risk": "风险",
    "healthy": "正常",
    "inconclusive": "无法判断",
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    "read-only": "只读",
    "reversible": "可回退",
    "trading": "影响交易",
    "outage": "中断服务",
    ", ": "，",
    "; ": "；",
    "{n} {what}": "{what} {n}",

    # -- the report document (diagnose/reports/document.py) -------------------------------------------
    "deadline of {seconds} reached": "已到 {seconds} 的时限",
    "the run's deadline ({seconds}) was reached": "已到本次运行的时限（{seconds}）",
    "interrupted": "已中断",
    "interrupted by {how}": "被 {how} 中断",
    "the run was interrupted ({how})": "运行被中断（{how}）",
    "{message}; first: {row}": "{message}；第一行：{row}",
    "counting from {since} (--since): every time window starts there, so a message's \"in the last 1h\" counts "
    "only what happened since; checks of a state are unchanged":
        "从 {since} 开始计算（--since）：每个时间窗口都从这里开始，所以消息里的“最近 1h”只统计此后发生的事；"
        "检查当前状态的检查不受影响",
    "Note: {note}": "注意: {note}",
    "profile; default {value}": "配置文件；默认 {value}",
    "default": "默认",
    "Settings: {settings}": "设置: {settings}",
    "{secrets} secret(s) masked in {replacements} place(s)": "已遮蔽 {secrets} 个密钥，共 {replacements} 处",
    "{secrets} secret(s) masked in {replacements} place(s) ({kinds})":
        "已遮蔽 {secrets} 个密钥，共 {replacements} 处（{kinds}）",

    # -- the Markdown report (diagnose/reports/markdown.py) -------------------------------------------
    "Problem found": "发现问题",
    "**Risk**: a known cause is there, but not the symptom (yet)": "**风险**：已知原因存在，但症状（尚）未出现",
    "**Healthy**: no known cause found": "**正常**：没有发现已知原因",
    "**Inconclusive**: nothing concluded a problem, but some checks could not conclude":
        "**无法判断**：没有检查确认有问题，但有些检查无法得出结论",
    "# diagnose report: {title} (`{id}`)": "# diagnose 报告：{title}（`{id}`）",
    "{verdict} (exit code {code}): {counts}": "{verdict}（退出码 {code}）：{counts}",
    "- **Symptom**: `{id}`, {category}, severity {severity}": "- **症状**：`{id}`，{category}，严重程度：{severity}",
    "- **FAQ page**: <{url}>": "- **FAQ 页面**：<{url}>",
    "- **Time**: {time} ({ms} ms)": "- **时间**：{time}（{ms} ms）",
    "- **Host**: {host}": "- **主机**：{host}",
    "- **Tool**: {name} {version}": "- **工具**：{name} {version}",
    "- **Knowledge base**: {name} {version}, digest {digest}": "- **知识库**：{name} {version}，摘要 {digest}",
    "- **Settings used**: {settings}": "- **使用的设置**：{settings}",
    "- **Incomplete**: {why}; checks marked *did not run* or *did not finish* were not finished":
        "- **未完成**：{why}；标为 *did not run* 或 *did not finish* 的检查没有执行完",
    "- **Note**: {note}": "- **注意**：{note}",
    "Checks": "检查",
    "Status": "状态",
    "Check": "检查",
    "Result": "结果",
    "Duration": "耗时",
    "Evidence": "证据",
    "Expected: {expects}": "预期：{expects}",
    "A failure points to: {causes}": "失败说明原因可能是：{causes}",
    "Check it by hand:": "手动检查：",
    "{title} (first {shown} of {total})": "{title}（共 {total} 条，显示前 {shown} 条）",
    "{status}: {title}": "{status}：{title}",
    "(no rows)": "（没有行）",
    "(no lines)": "（没有日志行）",
    "(no values)": "（没有值）",
    "Likely causes": "可能的原因",
    "{n}. **{title}** (score {score}, from {checks}): {explanation}":
        "{n}. **{title}**（得分 {score}，依据 {checks}）：{explanation}",
    "{n}. **{title}** (score {score})": "{n}. **{title}**（得分 {score}）",
    "Solutions": "解决办法",
    "Shown, never run: read each step before you type it. Each says its risk, where it runs, who approves it, its "
    "undo and how to verify it; ids this run found are filled in.":
        "只展示，从不执行：输入每个步骤之前先读一遍。每个步骤都写明了风险、在哪里执行、由谁审批、如何回退以及如何"
        "验证；本次运行找到的 id 已经填入。",
    "{title} (not implicated by this run)": "{title}（本次运行未牵涉）",
    "Solutions (shown, never run)": "解决办法（只展示，从不执行）",
    "Prevention": "预防",
    "Related": "相关条目",
    "Full entry: <{url}>": "完整条目：<{url}>",
    "Target profile (secrets masked)": "目标配置文件（密钥已遮蔽）",
    "{masked} as `«masked-N»`; the same secret has the same label throughout this report.":
        "{masked}，显示为 `«masked-N»`；同一个密钥在整份报告中始终使用同一个标签。",
    "generated {time}": "生成于 {time}",
    "diagnose triage": "diagnose 分诊",
    "**{problem} symptom(s) with a problem**, {risk} at risk, {inconclusive} inconclusive, {healthy} healthy (exit "
    "code {code}); {checks} checks, {probes} distinct probes run.":
        "**{problem} 个症状有问题**，{risk} 个有风险，{inconclusive} 个无法判断，{healthy} 个正常（退出码 {code}）；"
        "共 {checks} 项检查，实际运行了 {probes} 个不同的探测。",
    "Ranking": "排名",
    "Verdict": "结论",
    "Symptom": "症状",
    "Title": "标题",
    "Score": "得分",
    "Top cause": "首要原因",
    "{title} (follows from {ids})": "{title}（由 {ids} 引起）",
    "Risks: causes found without the symptom (yet)": "风险：发现了原因，但症状（尚）未出现",
    "Not what is broken now: each of these will make its symptom appear (on the next restart, the next order, the "
    "next rollover) unless it is fixed.":
        "这些并不是现在已经坏掉的地方：如果不修复，每一项都会让对应的症状出现（在下次重启、下一笔订单或下次换月时）。",
    "What did not conclude": "未能得出结论的检查",
    "Follows from {ids}: start there.": "由 {ids} 引起：先从那里入手。",
    "Score {score} · {category} · severity {severity} · FAQ: <{url}>":
        "得分 {score} · {category} · 严重程度：{severity} · FAQ：<{url}>",

    # -- the HTML report (diagnose/reports/html.py and its templates) ---------------------------------
    "Risk: a known cause is there, but not the symptom (yet)": "风险：已知原因存在，但症状（尚）未出现",
    "Healthy: no known cause found": "正常：没有发现已知原因",
    "Inconclusive: nothing concluded a problem, but some checks could not conclude":
        "无法判断：没有检查确认有问题，但有些检查无法得出结论",
    "{verdict} (exit code {code})": "{verdict}（退出码 {code}）",
    "Time": "时间",
    "Host": "主机",
    "Tool": "工具",
    "Knowledge base": "知识库",
    "digest": "摘要",
    "FAQ page": "FAQ 页面",
    "Settings used": "使用的设置",
    "Settings used:": "使用的设置：",
    "severity {severity}": "严重程度：{severity}",
    "(score {score}, from {checks})": "（得分 {score}，依据 {checks}）",
    "(score {score})": "（得分 {score}）",
    "Shown, never run: read each step before you type it.": "只展示，从不执行：输入每个步骤之前先读一遍。",
    "highest risk:": "最高风险：",
    "(first {shown} of {total})": "（共 {total} 条，显示前 {shown} 条）",
    "(not implicated by this run)": "（本次运行未牵涉）",
    "proven on example {examples}": "已在示例 {examples} 上验证",
    "Full entry:": "完整条目：",
    "Incomplete:": "未完成：",
    "{why}; checks marked “did not run” or “did not finish” were not finished.":
        "{why}；标为“did not run”或“did not finish”的检查没有执行完。",
    "Note:": "注意：",
    "{masked} as «masked-N»; the same secret has the same label throughout this report.":
        "{masked}，显示为 «masked-N»；同一个密钥在整份报告中始终使用同一个标签。",
    "diagnose triage — {n} problem(s)": "diagnose 分诊 — {n} 个问题",
    "{problem} symptom(s) with a problem, {risk} at risk, {inconclusive} inconclusive, {healthy} healthy (exit code "
    "{code})": "{problem} 个症状有问题，{risk} 个有风险，{inconclusive} 个无法判断，{healthy} 个正常（退出码 {code}）",
    "{checks} checks, {probes} distinct probes run": "{checks} 项检查，实际运行了 {probes} 个不同的探测",
    "Follows from": "由",
    ": start there.": " 引起：先从那里入手。",
    "Score {score} · {category} · severity {severity}": "得分 {score} · {category} · 严重程度：{severity}",

    # -- the terminal summary (diagnose/reports/terminal.py) ------------------------------------------
    "TRIAGE: {problem} symptom(s) with a problem, {risk} at risk, {inconclusive} inconclusive, {healthy} healthy "
    "({checks} checks, {probes} probes, {seconds}s)":
        "分诊: {problem} 个症状有问题，{risk} 个有风险，{inconclusive} 个无法判断，{healthy} 个正常"
        "（{checks} 项检查，{probes} 个探测，{seconds}s）",
    "no checks": "没有检查",
    "give the logs timestamps, or a log command that takes the window (each caveat says which log), then run again":
        "给日志加上时间戳，或者配置一个能按时间窗口读取的日志命令（每条说明都指出了是哪个日志），然后再运行一次",
    "make the checks that did not conclude runnable (see their messages), then run again":
        "让未能得出结论的检查能够运行（见各自的消息），然后再运行一次",
    "{solution} ({risk}; steps in the report)": "{solution}（{risk}；步骤见报告）",
    "read the evidence in the report and the FAQ page {url}": "阅读报告中的证据和 FAQ 页面 {url}",
    "read each step first": "先逐条阅读步骤",
    "risk: {risk}": "风险：{risk}",
    "risk: {risk}, approval first ({roles})": "风险：{risk}，需先审批（{roles}）",
    "Cause:": "原因:",
    "Risk (not the symptom yet):": "风险（症状尚未出现）:",
    "Next step:": "下一步:",
    "Report:": "报告:",
    "Inconclusive:": "无法判断:",
    "; likely cause: {cause}": "；可能的原因：{cause}",
    "; follows from {ids}": "；由 {ids} 引起",
    "{rank}. {id}: {title} (score {score}){cause}": "{rank}. {id}: {title}（得分 {score}）{cause}",
    "{n} more failed check(s) in the report": "报告中还有 {n} 项失败的检查",
    "Risks (a cause without the symptom, yet; fix before it shows):": "风险（原因已存在，症状尚未出现；在症状出现之前修复）:",
    "see the report": "见报告",
    "(the top finding's own report and fix)": "（排名第一的发现自己的报告和修复办法）",
    "{n} on log lines without a time": "{n} 项依据没有时间的日志行",
    "running checks": "正在运行检查",
    "done: {title}": "完成：{title}",

    # -- solution steps, for reports, `diagnose show` and the site (diagnose/kb/steps.py) -------------
    "read-only: changes nothing": "只读：不做任何改动",
    "reversible change: the undo is beside it": "可回退的改动：回退方法就写在旁边",
    "trading action: changes positions, orders, locks or the trading mode": "影响交易的操作：会改动持仓、订单、锁仓或交易模式",
    "outage: stops or restarts something others use": "中断服务：会停止或重启别人正在使用的服务",
    "the system's own notes (seed)": "系统自带的说明文档（seed）",
    "the reference-stack facts": "参考部署的事实",
    "vendor documentation": "厂商文档",
    "general knowledge": "通用知识",
    "an assumption: not in any source": "假设：没有任何来源依据",
    "{source}, {ref}": "{source}，{ref}",
    "{source}: {note}": "{source}：{note}",
    "check {check} listed no rows in this run": "本次运行中，检查 {check} 没有列出任何行",
    "check {check} has no column {column}": "检查 {check} 没有 {column} 列",
    "check {check} found {total} rows, more than the report keeps: list them with its query":
        "检查 {check} 找到 {total} 行，超过报告保留的数量：请用它的查询列出这些行",
    "check {check} found no rows": "检查 {check} 没有找到任何行",
    "a value holds a line break or another control character: list the rows with the check's query":
        "有值包含换行符或其他控制字符：请用该检查的查询列出这些行",
    "a value looks like a secret (masked in this report): list the rows with the check's query":
        "有值看起来像密钥（本报告中已遮蔽）：请用该检查的查询列出这些行",
    "the diagnosis found these candidates: keep in the list only those for which {condition}":
        "诊断找到了以下候选项：列表中只保留满足此条件的：{condition}",
    "one row per id you kept (at most {count})": "你保留的每个 id 各一行（最多 {count} 行）",
    "one row per id you kept": "你保留的每个 id 各一行",
    "exactly {count} row(s)": "正好 {count} 行",
    "one row per value of {{{name}}}": "{{{name}}} 的每个值各一行",
    "the rows the scope names": "影响范围中指明的行",
    "acts at once, no ROLLBACK undoes it: check it targets {rows} before you run it":
        "立即生效，ROLLBACK 无法撤销：执行前确认它针对的是{rows}",
    "check it says what the step says. Then type COMMIT; if so, ROLLBACK; if not.":
        "确认结果与步骤所说的一致。一致则输入 COMMIT; 不一致则输入 ROLLBACK;",
    "expect {rows} above. Then type COMMIT; if so, ROLLBACK; if not.":
        "上面应返回{rows}。无误则输入 COMMIT; 有误则输入 ROLLBACK;",
    "on the deployment's host (the compose folder)": "部署所在的主机上（compose 目录中）",
    "in psql on database `{name}`": "psql 中，数据库 `{name}`",
    "inside the `{name}` container": "`{name}` 容器内",
    "in {name}": "{name} 中",
    "**Step {n}** · risk: **{risk}**": "**步骤 {n}** · 风险：**{risk}**",
    "runs {where}": "执行位置：{where}",
    "{role} ({what})": "{role}（{what}）",
    "- **Approve first:** {role}: **{who}**": "- **先审批：** {role}：**{who}**",
    "- **Approve first:** {role}": "- **先审批：** {role}",
    "- **Approve first:** {role}: not named in the profile (`approvers:`): ask who signs off before you start":
        "- **先审批：** {role}：配置文件（`approvers:`）中没有指定审批人，开始之前先问清楚由谁批准",
    "- **When:** {when}": "- **执行时机：** {when}",
    "- **Scope:** {scope}": "- **影响范围：** {scope}",
    "- **Confirm each id first:** {condition} (keep only those in the list)":
        "- **先逐个确认 id：** {condition}（列表中只保留符合的）",
    "- **Before this step:** {title}: on database `{database}` this must return no rows ({why})":
        "- **执行本步骤之前：** {title}：在数据库 `{database}` 上，下面的查询必须不返回任何行（{why}）",
    "clear": "已满足",
    "**NOT CLEAR: wait**": "**未满足：请等待**",
    "not checked": "未检查",
    "This run checked it: {verdict} ({message})": "本次运行已检查：{verdict}（{message}）",
    "remove {key}": "删除 {key}",
    "In the env file `{source}`:": "在 env 文件 `{source}` 中：",
    "- `{{{name}}}` not filled in: {why}": "- `{{{name}}}` 未填入：{why}",
    "- **Undo:** {undo}": "- **回退：** {undo}",
    "- **Undo:**": "- **回退：**",
    "- **Verify:** `diagnose {id} --since <the time you did this>`: {checks} pass":
        "- **验证：** `diagnose {id} --since <你执行这一步的时间>`：{checks}应为通过",
    "- **Verify:** {verify}": "- **验证：** {verify}",
    "*{title}* (`{id}`)": "*{title}*（`{id}`）",
    "- **Source:** {source}": "- **来源：** {source}",
    "- `{{{name}}}`: the `{column}` values that *{title}* (`{check}`) lists; a report fills them in":
        "- `{{{name}}}`：*{title}*（`{check}`）列出的 `{column}` 值；报告中会自动填入",
    "highest risk: **{risk}**": "最高风险：**{risk}**",
    "proven on example {examples} (the self-test applies it to that broken world and the entry is healthy after)":
        "已在示例 {examples} 上验证（自检会在这个故障环境中执行它，之后该条目的结论为正常）",
    "- **Do not:** {dont} {why}": "- **不要：** {dont} {why}",
    "*(Source: {source})*": "*（来源：{source}）*",

    # -- `diagnose list`, `show` and `explain` (diagnose/cli/browse.py) -------------------------------
    "{count} symptom(s) in {name} {version}. Run one with `diagnose SYMPTOM`, read one with `diagnose show SYMPTOM`.":
        "{name} {version} 共有 {count} 个症状。用 `diagnose SYMPTOM` 运行其中一个，用 `diagnose show SYMPTOM` 查看"
        "其中一个。",
    "aliases: {aliases}": "别名：{aliases}",
    "What you see": "你看到的现象",
    "As users report it:": "用户的描述：",
    "Diagnose it": "诊断",
    "expects: {expects}": "预期：{expects}",
    "rule: {rule}": "规则：{rule}",
    "failure points to: {causes}": "失败说明原因可能是：{causes}",
    "a failure shows the symptom itself": "失败即说明症状本身存在",
    "by hand:": "手动检查：",
    "Causes": "原因",
    "Source: {source}": "来源：{source}",
    "Each step says its risk, where it runs, who approves it, its undo and how to verify it. `diagnose` never runs "
    "them.": "每个步骤都写明了风险、在哪里执行、由谁审批、如何回退以及如何验证。`diagnose` 从不执行这些步骤。",
    "fixes: {causes}": "解决的原因：{causes}",
    "What not to do": "不要这样做",
    "FAQ page: {url}": "FAQ 页面：{url}",
    "No symptom in the knowledge base explains this message. `diagnose list` shows them all; `diagnose triage` "
    "checks everything.":
        "知识库中没有能解释这条消息的症状。`diagnose list` 列出全部症状；`diagnose triage` 检查所有症状。",
    "matches /{pattern}/ on '{matched}'": "在 '{matched}' 上匹配 /{pattern}/",
    "shares words: {words}": "共同的词：{words}",
    "next: diagnose {id}": "下一步：diagnose {id}",
    # diagnose report BUNDLE
    "diagnose: note: this report was run in {written}: its knowledge base's texts (titles, messages, causes) and its solutions' steps stay as the run wrote them; run the symptom again with --lang {wanted} to have them in {wanted_name}":
        "diagnose：注意：本报告运行时的语言是 {written}：其中知识库的文字（标题、消息、原因）和解决办法的步骤保持运行时写下的样子；要看 {wanted_name} 版本，请用 --lang {wanted} 重新运行该症状",

    # -- the FAQ site's generated pages (diagnose/site/pages.py, guide.py, fixguide.py, siteconfig.py) ----
    # a symptom page
    "{severity} severity": "严重程度：{severity}",
    "{kind} check": "{kind} 检查",
    "also: {aliases}": "别名：{aliases}",
    "severity **{severity}**": "严重程度：**{severity}**",
    "As users report it": "用户的描述",
    "Diagnose it automatically": "自动诊断",
    "On a machine that reaches the systems below, with a profile (`diagnose.yaml`) saying where they are:":
        "在能访问下列系统的机器上，准备好一个写明它们位置的配置文件（`diagnose.yaml`），然后运行：",
    "It runs the {n} checks of the [diagnosis steps](#diagnosis-steps) at once, each under a timeout, names the cause "
    "it found with its evidence and the fix, and writes a report for the ticket (`--format html` or `json`; see "
    "[what the report looks like](#example-report)). `diagnose show {id}` prints this page in the terminal.":
        "它会一次运行[诊断步骤](#diagnosis-steps)中的全部 {n} 项检查，每项都有超时限制；它会指出找到的原因，附上证据"
        "和解决办法，并为工单写一份报告（`--format html` 或 `json`；见[报告示例](#example-report)）。"
        "`diagnose show {id}` 在终端中显示本页内容。",
    "It reads these sources of your [profile](../reference/profile.md):":
        "它会读取你的[配置文件](../reference/profile.md)中的以下数据源：",
    "| Source | What it is | Example |": "| 数据源 | 说明 | 示例 |",
    "Error messages": "错误消息",
    "Messages this symptom explains; paste yours into `diagnose explain \"...\"` or the search box. The patterns are "
    "regular expressions.":
        "本症状能解释的消息；把你遇到的消息粘贴到 `diagnose explain \"...\"` 或搜索框中即可。匹配模式是正则表达式。",
    "| Message | Pattern |": "| 消息 | 匹配模式 |",
    "reads {field} `{name}`": "读取 {field} `{name}`",
    "Diagnosis steps": "诊断步骤",
    "Each step is one check `diagnose` runs; the command under it does the same by hand.":
        "每个步骤就是 `diagnose` 运行的一项检查；步骤下面的命令可以手动完成同样的检查。",
    "**Healthy when**: {expects}": "**正常时**：{expects}",
    "**Rule**: {rule}": "**规则**：{rule}",
    "**Assumed, not in the sources**: {source}": "**假设，来源中没有依据**：{source}",
    "**Source**: {source}": "**来源**：{source}",
    "**A failure points to**: {causes}": "**失败说明原因可能是**：{causes}",
    "**A failure shows the symptom itself.**": "**失败即说明症状本身存在。**",
    "**A past event**: it names the cause of the symptom when the symptom is there; alone it is neither a problem "
    "nor a risk.":
        "**过去的事件**：症状存在时，它能指出症状的原因；单凭它失败，既不算有问题，也不算风险。",
    "**Context**: it helps read the other steps; its failure alone changes no verdict.":
        "**背景信息**：它帮助解读其他步骤；单凭它失败不会改变任何结论。",
    "**Alone, a failure is a risk**: the cause is there, the symptom not (yet).":
        "**单独失败即为风险**：原因已经存在，但症状（尚）未出现。",
    "**On a log without timestamps**: a file last written before the window counts nothing; otherwise lines without "
    "a time are counted in the whole file and the result says so, and when they decide it, it is not conclusive. "
    "[Give your logs timestamps](../reference/profile.md#untimed).":
        "**日志没有时间戳时**：最后写入时间早于时间窗口的文件不计入；否则会统计整个文件中没有时间的行，结果中会注明"
        "这一点；如果结论取决于这些行，结果就是无法判断。[给你的日志加上时间戳](../reference/profile.md#untimed)。",
    "Settings": "设置",
    "Thresholds of the checks above. Each has a default; a deployment whose normal differs sets its own value in its "
    "[profile](../reference/profile.md#settings), and every report lists the values it used and where each came from.":
        "上面各项检查使用的阈值。每个阈值都有默认值；如果某个部署的正常水平不一样，就在它的"
        "[配置文件](../reference/profile.md#settings)中设置自己的值，每份报告都会列出所用的值以及每个值的来源。",
    "| Setting | Default | What it decides | Used by |": "| 设置项 | 默认值 | 决定什么 | 使用它的检查 |",
    "at least {minimum}": "不小于 {minimum}",
    "at most {maximum}": "不大于 {maximum}",
    "diagnose.yaml: this deployment's values (only those that differ from the defaults)":
        "diagnose.yaml：本部署的取值（只写与默认值不同的）",
    "To change them for one deployment:": "要为某个部署修改这些值：",
    "*Source: {source}*": "*来源：{source}*",
    "Found by: {checks}": "由以下检查发现：{checks}",
    "Fixed by: {solutions}": "解决办法：{solutions}",
    "Read each step before you type it: `diagnose` shows fixes, it never runs them. Every step says what it can break "
    "(its risk), where it runs, who approves it, how to undo and verify it; "
    "[before you run a fix](../guide/before-a-fix.md) says how to read them.":
        "输入每个步骤之前先读一遍：`diagnose` 只展示解决办法，从不执行。每个步骤都写明了它可能破坏什么（风险）、"
        "在哪里执行、由谁审批、如何回退以及如何验证；[执行修复之前](../guide/before-a-fix.md)说明了怎样阅读这些步骤。",
    "Fixes: {causes}": "解决的原因：{causes}",
    "{title} (`{id}`): {summary}": "{title}（`{id}`）：{summary}",
    "{title} (`{id}`)": "{title}（`{id}`）",
    "What the report looks like": "报告示例",
    "the example reports were not built": "示例报告没有生成",
    "The example report could not be produced": "无法生成示例报告",
    "{why}. Build it yourself with a PostgreSQL installed: `diagnose demo --example {id}`.":
        "{why}。装好 PostgreSQL 后可以自己生成：`diagnose demo --example {id}`。",
    "`diagnose {id}` in the `{example}` example world": "在示例环境 `{example}` 中运行 `diagnose {id}`",
    "{description} This report was written by the tool when this site was built, against that world built for real "
    "(a throwaway PostgreSQL, log and env files, servers on 127.0.0.1); its temporary paths are shown as "
    "`/srv/example`. Run it yourself: `diagnose demo --example {id}/{example}`.":
        "{description} 这份报告是构建本站时由工具生成的，针对的是真实搭建起来的这个环境（一个临时 PostgreSQL、日志和 env "
        "文件，以及运行在 127.0.0.1 上的服务）；其中的临时路径显示为 `/srv/example`。自己运行："
        "`diagnose demo --example {id}/{example}`。",
    "Download: [HTML]({id}/report.html) (self-contained) · [JSON]({id}/report.json)":
        "下载：[HTML]({id}/report.html)（单个文件，可离线打开） · [JSON]({id}/report.json)",
    "Report": "报告",
    # a category page
    "{title} symptoms": "{title}类症状",
    "Symptoms of the {category} category.": "{category} 类别下的症状。",
    "| Symptom | Severity | Run |": "| 症状 | 严重程度 | 运行 |",
    "Seen as: {messages}": "常见说法：{messages}",
    "[Diagnosis, causes and solutions]({page})": "[诊断、原因和解决办法]({page})",
    # the quick-diagnosis guide and the error-message index
    "Quick diagnosis": "快速诊断",
    "Find the FAQ entry for what you see.": "根据你看到的现象找到对应的 FAQ 条目。",
    "Find what you see in the first column and open its page, or run the command on the machine that reaches your "
    "systems. Have an error message? Paste it into the search box, look it up in the "
    "[error-message index](errors.md), or run `diagnose explain \"<message>\"`. Not sure at all? `diagnose triage` "
    "runs every symptom's checks and ranks what it finds.":
        "在第一列中找到你看到的现象，打开它的页面；或者在能访问你的系统的机器上运行对应的命令。手上有错误消息？"
        "把它粘贴到搜索框，或者在[错误消息索引](errors.md)中查找，或者运行 `diagnose explain \"<message>\"`。"
        "完全没有头绪？`diagnose triage` 会运行所有症状的检查，并把发现的问题排好序。",
    "Every symptom": "全部症状",
    "| What you see | Category | Severity | Run |": "| 你看到的现象 | 类别 | 严重程度 | 运行 |",
    "By category": "按类别",
    "{title} (`{id}`, {severity})": "{title}（`{id}`，{severity}）",
    "Every error message the knowledge base explains, and the FAQ entry for it.":
        "知识库能解释的每一条错误消息，以及对应的 FAQ 条目。",
    "Every error message the knowledge base explains, and the symptom page for it. Each pattern is a regular "
    "expression matched against what you paste into `diagnose explain \"<message>\"`; the message column is an "
    "example it matches. The site's search finds these messages too.":
        "知识库能解释的每一条错误消息，以及对应的症状页面。每个匹配模式都是一个正则表达式，用来匹配你粘贴给 "
        "`diagnose explain \"<message>\"` 的内容；“消息”一列是它能匹配的一个例子。本站的搜索也能找到这些消息。",
    "Error patterns": "错误匹配模式",
    "| Message | Pattern | Symptom |": "| 消息 | 匹配模式 | 症状 |",
    "What operators and users write in tickets and chats, word for word.":
        "运维人员和用户在工单和聊天里写的原话，一字未改。",
    "| Message | Symptom |": "| 消息 | 症状 |",
    # "Before you run a fix"
    "Before you run a fix": "执行修复之前",
    "`diagnose` shows fixes and never runs them. Every solution step on this site and in every report says what it "
    "can break, where it runs, who must approve it and when, exactly what it touches, how to undo it and how to see "
    "that it worked. `diagnose lint` refuses a step that does not.":
        "`diagnose` 只展示修复步骤，从不执行。本站和每份报告中的每个解决步骤都写明了：它可能破坏什么、在哪里执行、"
        "必须由谁审批以及在什么时间执行、具体改动哪些内容、如何回退，以及如何确认修复已经生效。缺少这些内容的步骤，"
        "`diagnose lint` 会直接拒绝。",
    "Read the step first": "先读步骤",
    "**Run the diagnosis and keep its report.** A report fills the ids the diagnosis found into the commands "
    "(`WHERE position_id IN ('pos-paper-btc-1h')`); the page shows `{ids}` instead. Never widen a step to a time "
    "filter or a whole symbol: the ids are the scope.":
        "**先运行诊断，并保留报告。** 报告会把诊断找到的 id 填进命令里（`WHERE position_id IN ('pos-paper-btc-1h')`）；"
        "页面上显示的则是 `{ids}`。不要把步骤放宽成按时间过滤或针对整个品种：影响范围就是这些 id。",
    "**Check the risk class** (below). A trading action or an outage needs the approval the step names, in the "
    "window it names, before you type anything.":
        "**确认风险类别**（见下文）。影响交易或中断服务的操作，在输入任何命令之前，都必须先取得步骤指定的审批，"
        "并在步骤指定的时间窗口内执行。",
    "**Check the preconditions** a step lists (*Before this step*): each is a read-only query that must return no "
    "rows. `diagnose SYMPTOM` checks them itself (read-only) when it finds something to fix, and says under the step "
    "whether it is clear now or must wait (and names the first row in the way); a triage report shows the query "
    "only.":
        "**确认步骤列出的前置条件**（*执行本步骤之前*）：每个前置条件都是一条只读查询，必须不返回任何行。"
        "`diagnose SYMPTOM` 发现需要修复的问题时，会自己检查这些条件（只读），并在步骤下方注明现在是否已满足、"
        "还是必须等待（并指出挡路的第一行）；分诊报告只显示查询本身。",
    "**Run a change as shown**: inside `BEGIN; …`, compare the rows `RETURNING` shows with the count the step "
    "expects, and type `ROLLBACK;` instead of `COMMIT;` on any other count.":
        "**按所示方式执行改动**：在 `BEGIN; …` 中执行，把 `RETURNING` 显示的行与步骤预期的行数对比；行数不符时，"
        "输入 `ROLLBACK;` 而不是 `COMMIT;`。",
    "**Keep the undo at hand** (it is beside every reversible step and trading action).":
        "**随时准备好回退**（每个可回退的步骤和影响交易的操作旁边都写有回退方法）。",
    "**Verify**: run `diagnose SYMPTOM --since HH:MM` with the time you applied the fix. Every check with a time "
    "window then counts only what happened after it (has it come back?), while the checks of a state (the rows as "
    "they are now, an env value) still show whatever the fix did not change; the report says where its windows "
    "started. The self-test holds every proven fix to this: without the fix the same run is not healthy, with it it "
    "is.":
        "**验证**：运行 `diagnose SYMPTOM --since HH:MM`，时间填你执行修复的时间。这样，每个带时间窗口的检查只统计"
        "此后发生的事（问题有没有再次出现？），而检查当前状态的检查（现在的行、某个 env 值）仍会显示修复没有改变的"
        "东西；报告会写明各个时间窗口从哪里开始。自检对每个已验证的修复都按这个标准要求：不执行修复，同样的运行结果"
        "不是正常；执行修复后结果为正常。",
    "Risk classes": "风险类别",
    "| class | meaning | what the step carries |": "| 类别 | 含义 | 步骤必须写明的内容 |",
    "where it runs": "在哪里执行",
    "scope, undo, verification": "影响范围、回退、验证",
    "scope, undo, verification, approval, window": "影响范围、回退、验证、审批、时间窗口",
    "scope, verification, approval, window, preconditions for a service restart":
        "影响范围、验证、审批、时间窗口、重启服务的前置条件",
    "Who approves": "由谁审批",
    "Each role is mapped to people or a channel in the target profile (`diagnose.yaml`), and every report names them "
    "beside the step:":
        "每个角色都在目标配置文件（`diagnose.yaml`）中对应到具体的人或频道，每份报告都会在步骤旁边写出他们：",
    "| role | signs off |": "| 角色 | 负责审批 |",
    "When": "执行时机",
    "| window | meaning |": "| 时间窗口 | 含义 |",
    "Before a service restart": "重启服务之前",
    "A step that stops or recreates `{service}` first checks: {checks}.":
        "停止或重建 `{service}` 的步骤会先检查：{checks}。",
    "On database `{database}`, this must return no rows: {why}": "在数据库 `{database}` 上，下面的查询必须不返回任何行：{why}",
    "Commands that run where they say": "命令要在写明的位置执行",
    "A shell step says where it runs: on the host in the compose folder, or inside a container.":
        "shell 步骤都写明了在哪里执行：在主机上的 compose 目录中，或者在某个容器内。",
    "`docker compose exec -T`: without `-T` a TTY adds carriage returns, so a compared value never matches and a "
    "pipe breaks.":
        "`docker compose exec -T`：不加 `-T` 时，TTY 会加上回车符，导致比较的值永远对不上，管道也会出错。",
    "A variable of the container goes inside `sh -c '…'` in single quotes; otherwise the host's shell expands it "
    "first.":
        "容器里的变量要写在单引号括起来的 `sh -c '…'` 中；否则主机的 shell 会先把它展开。",
    "`docker compose up -d SERVICE` re-reads `.env`; `docker compose restart` keeps the old environment.":
        "`docker compose up -d SERVICE` 会重新读取 `.env`；`docker compose restart` 则沿用旧的环境变量。",
    "`psql` and `pg_dump` take a `postgresql://` URL; an application's `postgresql+asyncpg://` URL is refused.":
        "`psql` 和 `pg_dump` 只接受 `postgresql://` 格式的 URL；应用程序使用的 `postgresql+asyncpg://` URL 会被拒绝。",
    "No dated contract code in a command (it expires): the continuous main contract (`KQ.m@SHFE.rb`).":
        "命令中不要写带到期月份的合约代码（它会过期）：改用主力连续合约（`KQ.m@SHFE.rb`）。",
    "What not to do, per symptom": "各症状不要做的事",
    "Proven fixes": "已验证的修复",
    "The self-test applies these solutions to a broken example world (their SQL with the ids the diagnosis found, "
    "their env edits), runs the diagnosis again from the moment of the fix, and requires the symptom healthy:":
        "自检会把这些解决办法应用到一个出故障的示例环境中（用诊断找到的 id 执行它们的 SQL，并做它们的 env 修改），"
        "从修复的那一刻起重新运行诊断，并要求症状恢复正常：",
    "| symptom | solution | highest risk | proven on |": "| 症状 | 解决办法 | 最高风险 | 验证所用的示例 |",
    # the home page and the tags page of a site without its own (diagnose/site/siteconfig.py)
    "Symptoms of {title}: how to diagnose them by hand or with one command, their causes and fixes.":
        "{title} 的症状：如何手动或用一条命令诊断，以及它们的原因和解决办法。",
    "This site has **one page per symptom**: what you see, the checks that tell the possible causes apart, the "
    "causes, the fixes. Every page is generated from the knowledge base that the `diagnose` tool runs, so the site "
    "and the tool cannot disagree.":
        "本站**每个症状一个页面**：你看到的现象、区分各种可能原因的检查、原因以及解决办法。每个页面都由 `diagnose` "
        "工具运行的同一套知识库生成，所以网站和工具的说法不会不一致。",
    "Knowledge packs of this site:": "本站的知识包：",
    "Where to start": "从哪里开始",
    "You have an error message": "你手上有一条错误消息",
    "Paste it into the search box, or look it up in the [error-message index]({errors}). On the command line: "
    "`diagnose explain \"<the message>\"`.":
        "把它粘贴到搜索框，或者在[错误消息索引]({errors})中查找。在命令行中：`diagnose explain \"<the message>\"`。",
    "You see a symptom": "你看到了某个症状",
    "Find it in the [quick-diagnosis guide]({guide}), or by category: {categories}.":
        "在[快速诊断指南]({guide})中查找，或者按类别查找：{categories}。",
    "Find it in the [quick-diagnosis guide]({guide}).": "在[快速诊断指南]({guide})中查找。",
    "You can run the tool": "你可以运行这个工具",
    "`diagnose SYMPTOM` runs the checks against your systems and writes a report for the ticket; a "
    "[profile]({profile}) says where your sources are.":
        "`diagnose SYMPTOM` 会对你的系统运行检查，并为工单写一份报告；[配置文件]({profile})写明你的数据源在哪里。",
    "You write knowledge": "你负责编写知识库",
    "[Writing a new entry]({writing}), the [entry format]({format}), the [check kinds]({kinds}) and the "
    "[command line]({cli}).":
        "[编写新条目]({writing})、[条目格式]({format})、[检查类型]({kinds})和[命令行]({cli})。",
    "Symptoms": "症状",
    "Tags": "标签",
    "Symptoms by category, severity and the kinds of checks they run.": "按类别、严重程度和所运行检查的类型列出的症状。",
    "Symptoms grouped by category, by severity, and by the kinds of checks they run.":
        "症状按类别、严重程度以及所运行检查的类型分组。",
    # the navigation's section titles (siteconfig.default_nav, generate.expand_nav, the repository's mkdocs.yml)
    "Home": "首页",
    "Using the FAQ": "使用说明",
    "Connection": "连接",
    "Service": "服务",
    "Data": "数据",
    "Reference": "参考",
    # the glossary page (diagnose/site/glossary_page.py)
    "Glossary": "术语表",
    "The domain words of this site in Chinese and English.": "本站使用的业务术语，中英文对照。",
    "This knowledge pack has no glossary (glossary.yaml beside pack.yaml).":
        "这个知识包没有术语表（与 pack.yaml 同目录的 glossary.yaml）。",
    "The words the pages use for each thing, in both languages, and the other words operators use for it. "
    "`diagnose explain` treats the words of one line as the same word, so a message in either language finds the "
    "entry.":
        "各页面对每样东西使用的叫法（中英文），以及运维人员对它的其他说法。`diagnose explain` 把同一行里的词当作同一个词，"
        "所以无论消息是中文还是英文，都能找到对应的条目。",
    "Also said": "其他说法",
    # the manual command of a check on its page (diagnose/site/manual.py)
    'Paste into `psql "$DATABASE_URL_{database}"` (the `{database}` database):':
        '粘贴到 `psql "$DATABASE_URL_{database}"`（`{database}` 数据库）执行：',
    "What the entry's author runs:": "条目作者运行的命令：",
    "Or in one command:": "或者用一条命令：",
    "By hand:": "手动执行：",
}
