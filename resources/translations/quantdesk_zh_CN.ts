<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Clusters</name>
    <message>
        <source>New cluster</source>
        <translation>新建集群</translation>
    </message>
    <message>
        <source>default cluster</source>
        <translation>默认集群</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Ray dashboard</source>
        <translation>Ray 控制台地址</translation>
    </message>
    <message>
        <source>Auth header</source>
        <translation>认证请求头</translation>
    </message>
    <message>
        <source>Shared storage</source>
        <translation>共享存储</translation>
    </message>
    <message>
        <source>Python on the nodes</source>
        <translation>节点上的 Python</translation>
    </message>
    <message>
        <source>Shared storage: one folder per line, as the cluster&apos;s nodes name it, then = and where it is mounted on this machine (nothing after = when it is not). Jobs read models from there; outputs stay there.</source>
        <translation>共享存储：每行一个文件夹，先写集群节点上的路径，再写 = 和它在本机的挂载位置（未挂载时 = 后留空）。任务从这里读取模型，输出也保存在这里。</translation>
    </message>
    <message>
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>检查</translation>
    </message>
    <message>
        <source>Ask the cluster for its nodes, GPUs and memory</source>
        <translation>向集群查询节点、GPU 和内存</translation>
    </message>
    <message>
        <source>Saved %1.</source>
        <translation>已保存 %1。</translation>
    </message>
    <message>
        <source>Removed %1; the records of its jobs stay.</source>
        <translation>已移除 %1；其任务记录仍保留。</translation>
    </message>
    <message>
        <source>Asking %1…</source>
        <translation>正在询问 %1…</translation>
    </message>
</context>
<context>
    <name>Compare</name>
    <message>
        <source>Compare methods</source>
        <translation>比较方法</translation>
    </message>
    <message>
        <source>Quantize %1 with each method ticked (the same calibration tokens), then score every output on the same held-out text.</source>
        <translation>用勾选的每种方法量化 %1（使用相同的校准 token），然后在同一段留出文本上为每个输出评分。</translation>
    </message>
    <message>
        <source>Methods</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Group size (AWQ, GPTQ)</source>
        <translation>分组大小（AWQ、GPTQ）</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <source>Held-out text</source>
        <translation>留出文本</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <source>compare answers to the built-in prompts</source>
        <translation>比较内置提示词的回答</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Give an absolute output folder.</source>
        <translation>请给出输出文件夹的绝对路径。</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>Method comparison: %1</source>
        <translation>方法比较：%1</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Size (GiB)</source>
        <translation>大小 (GiB)</translation>
    </message>
    <message>
        <source>size (GiB)</source>
        <translation>大小 (GiB)</translation>
    </message>
    <message>
        <source>Quantize s</source>
        <translation>量化 秒</translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Δ</source>
        <translation>Δ</translation>
    </message>
    <message>
        <source>Agreement</source>
        <translation>一致率</translation>
    </message>
    <message>
        <source>Quality against size</source>
        <translation>质量与大小</translation>
    </message>
    <message>
        <source>perplexity (lower is better)</source>
        <translation>困惑度（越低越好）</translation>
    </message>
    <message>
        <source>Cancel comparison</source>
        <translation>取消比较</translation>
    </message>
    <message>
        <source>Save chart…</source>
        <translation>保存图表…</translation>
    </message>
    <message>
        <source>Running: %1 of %2 jobs ended. Each job is also in the Jobs panel.</source>
        <translation>运行中：%2 个任务中已结束 %1 个。每个任务也显示在“任务”面板中。</translation>
    </message>
    <message>
        <source>%1 held-out tokens, context %2. Δ is the perplexity change against the source; agreement is greedy answers matching it.</source>
        <translation>%1 个留出 token，上下文 %2。Δ 是相对源模型的困惑度变化；一致率是贪心解码回答与源模型相同的比例。</translation>
    </message>
    <message>
        <source>The comparison did not finish. %1</source>
        <translation>比较未完成。%1</translation>
    </message>
    <message>
        <source>source (unquantized)</source>
        <translation>源模型（未量化）</translation>
    </message>
    <message>
        <source>Save chart</source>
        <translation>保存图表</translation>
    </message>
</context>
<context>
    <name>CrashDialog</name>
    <message>
        <source>QuantDesk closed unexpectedly last time.</source>
        <translation>QuantDesk 上次意外关闭。</translation>
    </message>
    <message>
        <source>The crash report below was saved to %1. Please include it in a support request.</source>
        <translation>以下崩溃报告已保存到 %1。请将其附在支持请求中。</translation>
    </message>
    <message>
        <source>QuantDesk hit an error</source>
        <translation>QuantDesk 遇到错误</translation>
    </message>
    <message>
        <source>Something went wrong. Your jobs and settings are safe; the details below are also in the log file. Copy them into a support request.</source>
        <translation>出现了问题。您的任务和设置都已保留；以下详情也已写入日志文件。请将其复制到支持请求中。</translation>
    </message>
    <message>
        <source>Recent log:</source>
        <translation>最近的日志：</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>Datasets</name>
    <message>
        <source>A dataset name, a file or a folder</source>
        <translation>数据集名称、文件或文件夹</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>文件夹…</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <source>blank-line blocks</source>
        <translation>空行分隔的段落</translation>
    </message>
    <message>
        <source>lines</source>
        <translation>逐行</translation>
    </message>
    <message>
        <source>Model folder (for token statistics)</source>
        <translation>模型文件夹（用于 token 统计）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>concatenate and cut into blocks</source>
        <translation>拼接后切分为等长块</translation>
    </message>
    <message>
        <source>one text per sample, truncated</source>
        <translation>每条文本一个样本（截断）</translation>
    </message>
    <message>
        <source>Field / column</source>
        <translation>字段 / 列</translation>
    </message>
    <message>
        <source>Text files split into</source>
        <translation>文本文件切分方式</translation>
    </message>
    <message>
        <source>Samples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>Sequence length</source>
        <translation>序列长度</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Minimum characters</source>
        <translation>最少字符数</translation>
    </message>
    <message>
        <source>Tokenizer</source>
        <translation>分词器</translation>
    </message>
    <message>
        <source>Preview</source>
        <translation>预览</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Pick a source and press Preview.</source>
        <translation>选择一个来源，然后点击“预览”。</translation>
    </message>
    <message>
        <source>Tokens per text</source>
        <translation>每条文本的 token 数</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>texts</source>
        <translation>文本数</translation>
    </message>
    <message>
        <source>The first texts appear here.</source>
        <translation>前几条文本会显示在这里。</translation>
    </message>
    <message>
        <source>Calibration file</source>
        <translation>校准文件</translation>
    </message>
    <message>
        <source>Calibration folder</source>
        <translation>校准文件夹</translation>
    </message>
    <message>
        <source>Model or tokenizer folder</source>
        <translation>模型或分词器文件夹</translation>
    </message>
    <message>
        <source>Type a dataset name or pick a file or folder first.</source>
        <translation>请先输入数据集名称，或选择文件或文件夹。</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>No statistics: this source could not be read.</source>
        <translation>没有统计：无法读取此来源。</translation>
    </message>
    <message>
        <source>Read in %1 s.</source>
        <translation>读取用时 %1 秒。</translation>
    </message>
    <message>
        <source>Texts</source>
        <translation>文本数</translation>
    </message>
    <message>
        <source>Characters</source>
        <translation>字符数</translation>
    </message>
    <message>
        <source>Encoding</source>
        <translation>编码</translation>
    </message>
    <message>
        <source>CJK share</source>
        <translation>中日韩字符占比</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>Shorter than the sequence length</source>
        <translation>短于序列长度的比例</translation>
    </message>
    <message>
        <source>Samples available</source>
        <translation>可用样本数</translation>
    </message>
    <message>
        <source>Token hash</source>
        <translation>token 哈希</translation>
    </message>
    <message>
        <source>pick a tokenizer for token statistics</source>
        <translation>选择分词器以查看 token 统计</translation>
    </message>
    <message>
        <source>sequence length</source>
        <translation>序列长度</translation>
    </message>
</context>
<context>
    <name>Environment</name>
    <message>
        <source>OK</source>
        <translation>正常</translation>
    </message>
    <message>
        <source>Warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Skipped</source>
        <translation>跳过</translation>
    </message>
    <message>
        <source>Re-run checks</source>
        <translation>重新检查</translation>
    </message>
    <message>
        <source>Copy report</source>
        <translation>复制报告</translation>
    </message>
    <message>
        <source>Copy the report as Markdown for a support request</source>
        <translation>将报告复制为 Markdown，用于支持请求</translation>
    </message>
    <message>
        <source>Write launcher…</source>
        <translation>生成启动脚本…</translation>
    </message>
    <message>
        <source>A .cmd and .ps1 that set up MSVC x64, activate this environment and start a command</source>
        <translation>生成 .cmd 和 .ps1：配置 MSVC x64、激活此环境并启动命令</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Check</source>
        <translation>检查项</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>Fix</source>
        <translation>修复</translation>
    </message>
    <message>
        <source>Copy command</source>
        <translation>复制命令</translation>
    </message>
    <message>
        <source>Checking…</source>
        <translation>正在检查…</translation>
    </message>
    <message>
        <source>Checking: %1</source>
        <translation>正在检查：%1</translation>
    </message>
    <message>
        <source>The checks failed: %1</source>
        <translation>检查失败：%1</translation>
    </message>
    <message>
        <source>ok %1 · warning %2 · failed %3 · skipped %4</source>
        <translation>正常 %1 · 警告 %2 · 失败 %3 · 跳过 %4</translation>
    </message>
    <message>
        <source>Nothing to fix here</source>
        <translation>这里没有需要修复的</translation>
    </message>
    <message>
        <source>QuantDesk cannot do this fix itself: follow the steps above</source>
        <translation>QuantDesk 无法自行完成此修复：请按上面的步骤操作</translation>
    </message>
    <message>
        <source> (Copy command copies the command)</source>
        <translation>（“复制命令”可复制该命令）</translation>
    </message>
    <message>
        <source>This fix has no command</source>
        <translation>此修复没有可复制的命令</translation>
    </message>
    <message>
        <source>QuantDesk cannot do this fix itself and it has no command: follow the steps above</source>
        <translation>QuantDesk 无法自行完成此修复，且此修复没有命令：请按上面的步骤操作</translation>
    </message>
    <message>
        <source>Fixing: %1</source>
        <translation>正在修复：%1</translation>
    </message>
    <message>
        <source>The fix failed: %1</source>
        <translation>修复失败：%1</translation>
    </message>
    <message>
        <source>Started as job %1: follow it in the Jobs panel</source>
        <translation>已作为任务 %1 启动：请在“任务”面板查看进度</translation>
    </message>
    <message>
        <source>Report copied as Markdown.</source>
        <translation>报告已复制为 Markdown。</translation>
    </message>
    <message>
        <source>Write launcher</source>
        <translation>生成启动脚本</translation>
    </message>
    <message>
        <source>Command to start:</source>
        <translation>要启动的命令：</translation>
    </message>
    <message>
        <source>Folder for the launcher</source>
        <translation>启动脚本所在文件夹</translation>
    </message>
    <message>
        <source>Wrote %1 and %2</source>
        <translation>已写入 %1 和 %2</translation>
    </message>
</context>
<context>
    <name>Evaluate</name>
    <message>
        <source>Compare models</source>
        <translation>比较模型</translation>
    </message>
    <message>
        <source>Scan layers</source>
        <translation>逐层扫描</translation>
    </message>
    <message>
        <source>Frontier</source>
        <translation>前沿</translation>
    </message>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>optional: the original model</source>
        <translation>可选：原始模型</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Baseline</source>
        <translation>基线</translation>
    </message>
    <message>
        <source>Candidates</source>
        <translation>候选模型</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Outputs of finished quantization jobs</source>
        <translation>已完成的量化任务的输出</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Run on</source>
        <translation>运行于</translation>
    </message>
    <message>
        <source>Text and settings</source>
        <translation>文本与设置</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <source>Held-out text</source>
        <translation>评估文本</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Simulate this precision on the first candidate (an unquantized model): W weight bits, A activation bits, KV cache bits</source>
        <translation>在第一个候选模型（未量化模型）上模拟此精度：W 为权重位数，A 为激活位数，KV 为 KV 缓存位数</translation>
    </message>
    <message>
        <source>Simulated precisions</source>
        <translation>模拟精度</translation>
    </message>
    <message>
        <source>per channel</source>
        <translation>逐通道</translation>
    </message>
    <message>
        <source>Weight groups</source>
        <translation>权重分组</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>Tokens to score</source>
        <translation>评估的 token 数</translation>
    </message>
    <message>
        <source>compare answers</source>
        <translation>比较回答</translation>
    </message>
    <message>
        <source>built-in English and Chinese prompts</source>
        <translation>内置的中英文提示词</translation>
    </message>
    <message>
        <source>Prompts</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>fine up to</source>
        <translation>可接受上限</translation>
    </message>
    <message>
        <source>do not ship above</source>
        <translation>超过则不应发布</translation>
    </message>
    <message>
        <source>Verdict (+% perplexity)</source>
        <translation>判定（困惑度增加 %）</translation>
    </message>
    <message>
        <source>Run evaluation</source>
        <translation>开始评估</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>变体</translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Δ %</source>
        <translation>Δ %</translation>
    </message>
    <message>
        <source>Agreement</source>
        <translation>一致率</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>Time (s)</source>
        <translation>用时（秒）</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>判定</translation>
    </message>
    <message>
        <source>baseline</source>
        <translation>基线</translation>
    </message>
    <message>
        <source>fine</source>
        <translation>可以接受</translation>
    </message>
    <message>
        <source>check answers</source>
        <translation>需核对回答</translation>
    </message>
    <message>
        <source>do not ship</source>
        <translation>不要发布</translation>
    </message>
    <message>
        <source>Results of the evaluation of %1 (job %2): %3</source>
        <translation>%1 的评估结果（任务 %2）：%3</translation>
    </message>
    <message>
        <source>Table</source>
        <translation>表格</translation>
    </message>
    <message>
        <source>Perplexity by variant</source>
        <translation>各变体的困惑度</translation>
    </message>
    <message>
        <source>perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Chart</source>
        <translation>图表</translation>
    </message>
    <message>
        <source>Answers</source>
        <translation>回答</translation>
    </message>
    <message>
        <source>Export Markdown…</source>
        <translation>导出 Markdown…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>Results of a run in progress…</source>
        <translation>进行中的评估的结果…</translation>
    </message>
    <message>
        <source>Run an evaluation first</source>
        <translation>请先运行评估</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Add at least one candidate model.</source>
        <translation>请至少添加一个候选模型。</translation>
    </message>
    <message>
        <source>Tick at least one weight group (per channel or 128) for the simulated precisions.</source>
        <translation>请为模拟精度至少勾选一种权重分组（逐通道或 128）。</translation>
    </message>
    <message>
        <source>Checking cluster %1…</source>
        <translation>正在检查集群 %1…</translation>
    </message>
    <message>
        <source>Evaluation %1 runs on cluster %2.</source>
        <translation>评估 %1 在集群 %2 上运行。</translation>
    </message>
    <message>
        <source>Evaluation %1 queued.</source>
        <translation>评估任务 %1 已排队。</translation>
    </message>
    <message>
        <source>Showing evaluation %1.</source>
        <translation>正在显示评估 %1。</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <source>Results appear here after an evaluation.</source>
        <translation>评估完成后结果会显示在这里。</translation>
    </message>
    <message>
        <source>No answers compared in this evaluation.</source>
        <translation>本次评估未比较回答。</translation>
    </message>
    <message>
        <source>Export results</source>
        <translation>导出结果</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
</context>
<context>
    <name>Forms</name>
    <message>
        <source>Text file</source>
        <translation>文本文件</translation>
    </message>
</context>
<context>
    <name>Frontier</name>
    <message>
        <source>The KV cache is sized for one sequence of this many tokens</source>
        <translation>KV 缓存按一条这么多词元的序列计算</translation>
    </message>
    <message>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>KV cache for (tokens)</source>
        <translation>KV 缓存长度（词元）</translation>
    </message>
    <message>
        <source>Quality against size</source>
        <translation>质量与大小</translation>
    </message>
    <message>
        <source>GiB (weights + KV cache)</source>
        <translation>GiB（权重 + KV 缓存）</translation>
    </message>
    <message>
        <source>perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Export PNG…</source>
        <translation>导出 PNG…</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>导出 CSV…</translation>
    </message>
    <message>
        <source>A point of the chart (the front&apos;s first)</source>
        <translation>图上的一个点（前沿上的点排在前面）</translation>
    </message>
    <message>
        <source>Open evaluation</source>
        <translation>打开评估</translation>
    </message>
    <message>
        <source>%1 · %2 · context %3</source>
        <translation>%1 · %2 · 上下文 %3</translation>
    </message>
    <message>
        <source>No finished evaluation yet: run one in Compare models (add simulated precisions and KV policies for more points).</source>
        <translation>还没有完成的评估：请在“比较模型”中运行一次（添加模拟精度和 KV 策略可得到更多点）。</translation>
    </message>
    <message>
        <source>%1 variants, %2 on the front (red; nothing else is both smaller and better). Click a point, or pick it beside, to open its evaluation.</source>
        <translation>%1 个变体，%2 个在前沿上（红色；没有别的变体同时更小且更好）。点击一个点，或在旁边选择它，即可打开它的评估。</translation>
    </message>
    <message>
        <source>%1: perplexity %2, %3 (weights %4 + KV %5), evaluation %6</source>
        <translation>%1：困惑度 %2，%3（权重 %4 + KV %5），评估 %6</translation>
    </message>
    <message>
        <source>Left out (model folder unreadable): %1</source>
        <translation>已略过（模型文件夹无法读取）：%1</translation>
    </message>
    <message>
        <source>Export frontier</source>
        <translation>导出前沿</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <source>Could not write %1</source>
        <translation>无法写入 %1</translation>
    </message>
</context>
<context>
    <name>Jobs</name>
    <message>
        <source>quantize</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>export</source>
        <translation>导出</translation>
    </message>
    <message>
        <source>layer scan</source>
        <translation>逐层扫描</translation>
    </message>
    <message>
        <source>serve</source>
        <translation>部署</translation>
    </message>
    <message>
        <source>ML runtime install</source>
        <translation>安装 ML 运行时</translation>
    </message>
    <message>
        <source>engine install</source>
        <translation>安装推理引擎</translation>
    </message>
    <message>
        <source>self-test</source>
        <translation>自检</translation>
    </message>
    <message>
        <source>cluster check</source>
        <translation>集群检查</translation>
    </message>
    <message>
        <source>fetch</source>
        <translation>取回</translation>
    </message>
    <message>
        <source>queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>succeeded</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>Job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>ETA</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <source>Duration</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>The job history file was damaged and has been set aside; the list starts empty. Job folders, logs and outputs are untouched.</source>
        <translation>任务历史文件已损坏，已移到一旁；列表从空开始。任务文件夹、日志和输出都未受影响。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Open output folder</source>
        <translation>打开输出文件夹</translation>
    </message>
    <message>
        <source>Re-run</source>
        <translation>重新运行</translation>
    </message>
    <message>
        <source>Run again with the same settings (into a new folder)</source>
        <translation>以相同设置再次运行（输出到新文件夹）</translation>
    </message>
    <message>
        <source>Edit and re-run…</source>
        <translation>编辑后重新运行…</translation>
    </message>
    <message>
        <source>Open this job&apos;s settings in its panel, change them, start again</source>
        <translation>在对应面板中打开此任务的设置，修改后重新开始</translation>
    </message>
    <message>
        <source>Delete record</source>
        <translation>删除记录</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export this model for a serving engine, GGUF or an NPU</source>
        <translation>导出此模型，用于推理引擎、GGUF 或 NPU</translation>
    </message>
    <message>
        <source>Show comparison</source>
        <translation>查看比较</translation>
    </message>
    <message>
        <source>This job is part of a method comparison</source>
        <translation>此任务属于一次方法比较</translation>
    </message>
    <message>
        <source>Serve and test</source>
        <translation>部署并测试</translation>
    </message>
    <message>
        <source>Start the real engine on this export, ask it the test prompts, compare with the source, and keep it running for your questions</source>
        <translation>用真实引擎加载此导出，提问测试提示词，与源模型对比，并保持运行以便您继续提问</translation>
    </message>
    <message>
        <source>Fetch…</source>
        <translation>取回…</translation>
    </message>
    <message>
        <source>Copy this job&apos;s output from the cluster to this machine</source>
        <translation>把此任务的输出从集群复制到本机</translation>
    </message>
    <message>
        <source>Follow again</source>
        <translation>重新跟踪</translation>
    </message>
    <message>
        <source>Contact with the cluster was lost while this job ran: follow it again (it may have gone on there)</source>
        <translation>任务运行时与集群失去了联系：重新跟踪它（它可能仍在集群上继续运行）</translation>
    </message>
    <message>
        <source>Evaluate this…</source>
        <translation>评估此模型…</translation>
    </message>
    <message>
        <source>Compare the output with its source: perplexity and answers</source>
        <translation>将输出与其源模型对比：困惑度和回答</translation>
    </message>
    <message>
        <source>Plan memory…</source>
        <translation>规划显存…</translation>
    </message>
    <message>
        <source>Show results</source>
        <translation>查看结果</translation>
    </message>
    <message>
        <source>Open this evaluation in the Evaluate panel</source>
        <translation>在评估页打开这次评估</translation>
    </message>
    <message>
        <source>Raw log</source>
        <translation>原始日志</translation>
    </message>
    <message>
        <source>Show the log as written, with progress bars and library warnings</source>
        <translation>按原样显示日志，包括进度条和库的警告</translation>
    </message>
    <message>
        <source>The selected job&apos;s log appears here, live.</source>
        <translation>所选任务的日志会实时显示在这里。</translation>
    </message>
    <message>
        <source>%1 (newer version)</source>
        <translation>%1（较新版本）</translation>
    </message>
    <message>
        <source>Stop server</source>
        <translation>停止服务</translation>
    </message>
    <message>
        <source>No jobs yet. Start one from the Quantize panel.</source>
        <translation>还没有任务。请从“量化”面板开始一个。</translation>
    </message>
    <message>
        <source>Runs on cluster %1; its paths are the cluster&apos;s, and the output stays there until you fetch it.</source>
        <translation>在集群 %1 上运行；路径均为集群上的路径，输出会留在集群上，直到您取回。</translation>
    </message>
    <message>
        <source>%1 → %2 (%3× smaller) in %4 s; logits finite: %5</source>
        <translation>%1 → %2（缩小 %3 倍），用时 %4 秒；logits 有限：%5</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>否</translation>
    </message>
    <message>
        <source>not checked</source>
        <translation>未检查</translation>
    </message>
    <message>
        <source>Fetch into folder</source>
        <translation>取回到文件夹</translation>
    </message>
    <message>
        <source>Cannot serve this export</source>
        <translation>无法部署此导出</translation>
    </message>
    <message>
        <source>Install %1?</source>
        <translation>安装 %1？</translation>
    </message>
    <message>
        <source>Install %1 now? It takes about %2 minutes and runs as a job; press Serve and test again when it has finished.</source>
        <translation>现在安装 %1 吗？大约需要 %2 分钟，以任务方式运行；完成后请再次点击“部署并测试”。</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Settings…</source>
        <translation>设置(&amp;S)…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Export &amp;logs…</source>
        <translation>导出日志(&amp;L)…</translation>
    </message>
    <message>
        <source>&amp;About QuantDesk</source>
        <translation>关于 QuantDesk(&amp;A)</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Show or hide the log (Ctrl+J)</source>
        <translation>显示或隐藏日志（Ctrl+J）</translation>
    </message>
    <message>
        <source>%n task(s) running</source>
        <translation>%n 个任务正在运行</translation>
    </message>
    <message>
        <source>About QuantDesk</source>
        <translation>关于 QuantDesk</translation>
    </message>
    <message>
        <source>QuantDesk %1
From a Hugging Face model to a quantized model you can trust.</source>
        <translation>QuantDesk %1
从 Hugging Face 模型到值得信赖的量化模型。</translation>
    </message>
    <message>
        <source>Jobs on a cluster keep running there; QuantDesk follows them again when it starts.</source>
        <translation>集群上的任务会在集群上继续运行；QuantDesk 下次启动时会重新跟踪它们。</translation>
    </message>
    <message>
        <source>Jobs are running</source>
        <translation>有任务正在运行</translation>
    </message>
    <message>
        <source>%1 job(s) are still running or queued. Quit and cancel them?</source>
        <translation>还有 %1 个任务正在运行或排队。要退出并取消它们吗？</translation>
    </message>
</context>
<context>
    <name>Monitor</name>
    <message>
        <source>Folder with config.json</source>
        <translation>包含 config.json 的文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Outputs of finished quantization jobs</source>
        <translation>已完成的量化任务的输出</translation>
    </message>
    <message>
        <source>or a job&apos;s output</source>
        <translation>或任务的输出</translation>
    </message>
    <message>
        <source>No model selected.</source>
        <translation>未选择模型。</translation>
    </message>
    <message>
        <source>Weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>AWQ group size</source>
        <translation>AWQ 分组大小</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>推理引擎</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>自定义</translation>
    </message>
    <message>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>GPU memory</source>
        <translation>GPU 显存</translation>
    </message>
    <message>
        <source>gpu_memory_utilization</source>
        <translation>gpu_memory_utilization</translation>
    </message>
    <message>
        <source>cache_max_entry_count</source>
        <translation>cache_max_entry_count</translation>
    </message>
    <message>
        <source>Tensor parallel</source>
        <translation>张量并行</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>KV cache of one sequence against context length</source>
        <translation>单条序列的 KV 缓存随上下文长度的变化</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>Export chart as PNG…</source>
        <translation>导出图表为 PNG…</translation>
    </message>
    <message>
        <source>(pick one)</source>
        <translation>（请选择）</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Export chart</source>
        <translation>导出图表</translation>
    </message>
    <message>
        <source>Reading config.json…</source>
        <translation>正在读取 config.json…</translation>
    </message>
    <message>
        <source>Pick a model folder to see what fits.</source>
        <translation>选择一个模型文件夹，查看能放下多少。</translation>
    </message>
    <message>
        <source>Fits</source>
        <translation>放得下</translation>
    </message>
    <message>
        <source>Does not fit</source>
        <translation>放不下</translation>
    </message>
    <message>
        <source>Fits, but read the warnings</source>
        <translation>放得下，但请阅读警告</translation>
    </message>
    <message>
        <source>KV cache per token</source>
        <translation>每个 token 的 KV 缓存</translation>
    </message>
    <message>
        <source>KV budget</source>
        <translation>KV 缓存预算</translation>
    </message>
    <message>
        <source>Activations + other</source>
        <translation>激活值 + 其他</translation>
    </message>
    <message>
        <source>Tokens that fit</source>
        <translation>可容纳的 token 数</translation>
    </message>
    <message>
        <source>Sequences at context</source>
        <translation>该上下文长度下的并发序列数</translation>
    </message>
    <message>
        <source>weights</source>
        <translation>权重</translation>
    </message>
    <message>
        <source>activations + other</source>
        <translation>激活值 + 其他</translation>
    </message>
    <message>
        <source>free</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>KV budget: fits below</source>
        <translation>KV 预算：低于此线即可放下</translation>
    </message>
    <message>
        <source>GPU utilisation</source>
        <translation>GPU 利用率</translation>
    </message>
    <message>
        <source>Host RAM and job memory</source>
        <translation>主机内存与任务内存</translation>
    </message>
    <message>
        <source>Host CPU</source>
        <translation>主机 CPU</translation>
    </message>
    <message>
        <source>Server KV cache in use</source>
        <translation>服务的 KV 缓存占用</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>实时</translation>
    </message>
    <message>
        <source>Memory planner</source>
        <translation>显存规划</translation>
    </message>
    <message>
        <source>No GPU charts: %1. Showing the host only.</source>
        <translation>无 GPU 图表：%1。仅显示主机。</translation>
    </message>
    <message>
        <source>Sampling %1 GPU(s) and the host at %2 Hz.</source>
        <translation>正在以 %2 Hz 采样 %1 块 GPU 和主机。</translation>
    </message>
    <message>
        <source>host used</source>
        <translation>主机已用</translation>
    </message>
    <message>
        <source>job</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>engine pool</source>
        <translation>引擎缓存池</translation>
    </message>
    <message>
        <source>planned pool</source>
        <translation>规划的缓存池</translation>
    </message>
    <message>
        <source>%1: the engine reports no KV-cache metrics</source>
        <translation>%1：该引擎未报告 KV 缓存指标</translation>
    </message>
    <message>
        <source>%1: %2 of the KV cache in use</source>
        <translation>%1：KV 缓存已用 %2</translation>
    </message>
    <message>
        <source>planned weights</source>
        <translation>规划的权重</translation>
    </message>
    <message>
        <source>weights + KV budget</source>
        <translation>权重 + KV 预算</translation>
    </message>
</context>
<context>
    <name>Overview</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Calibration data</source>
        <translation>校准数据</translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Export or serve</source>
        <translation>导出或部署</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <source>Needs a fix</source>
        <translation>需要修正</translation>
    </message>
    <message>
        <source>Look at this</source>
        <translation>请查看</translation>
    </message>
    <message>
        <source>To do</source>
        <translation>待办</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等待前一步</translation>
    </message>
    <message>
        <source>Pick the folder of a Hugging Face model (the one that holds config.json).</source>
        <translation>选择一个 Hugging Face 模型文件夹（包含 config.json 的那个）。</translation>
    </message>
    <message>
        <source>Quantize it: choose the calibration data there (pileval, or text like your users&apos; prompts).</source>
        <translation>开始量化：在量化页选择校准数据（pileval，或与你的用户提示词相似的文本）。</translation>
    </message>
    <message>
        <source>The last quantize job did not succeed: fix its settings and start it again.</source>
        <translation>上一次量化任务没有成功：修正设置后重新开始。</translation>
    </message>
    <message>
        <source>Evaluate the quantized model against the source: perplexity and whether its answers agree.</source>
        <translation>将量化模型与源模型对比评估：困惑度，以及回答是否一致。</translation>
    </message>
    <message>
        <source>The evaluation found a loss: compare the answers, or quantize again with other settings.</source>
        <translation>评估发现了质量损失：对比回答，或换一组设置重新量化。</translation>
    </message>
    <message>
        <source>Export it for your serving engine or NPU, or serve it with a chat smoke test.</source>
        <translation>为你的推理引擎或 NPU 导出，或部署并运行对话冒烟测试。</translation>
    </message>
    <message>
        <source>The chat smoke test found a problem: look at its answers.</source>
        <translation>对话冒烟测试发现了问题：请查看它的回答。</translation>
    </message>
    <message>
        <source>This model is quantized, checked and deployed.</source>
        <translation>这个模型已量化、已检验、已部署。</translation>
    </message>
    <message>
        <source>Folder of a Hugging Face model</source>
        <translation>Hugging Face 模型文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>%1 is a quantized output of %2: showing that model.</source>
        <translation>%1 是 %2 的量化输出：显示的是那个模型。</translation>
    </message>
    <message>
        <source>Choose a model folder above.</source>
        <translation>请在上方选择模型文件夹。</translation>
    </message>
    <message>
        <source>Show job</source>
        <translation>查看任务</translation>
    </message>
    <message>
        <source>Plan memory</source>
        <translation>规划显存</translation>
    </message>
    <message>
        <source>Quantize…</source>
        <translation>量化…</translation>
    </message>
    <message>
        <source>Preview in Datasets</source>
        <translation>在数据集中预览</translation>
    </message>
    <message>
        <source>Evaluate this</source>
        <translation>评估此模型</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
</context>
<context>
    <name>Panels</name>
    <message>
        <source>Datasets</source>
        <translation>数据集</translation>
    </message>
    <message>
        <source>Calibration text from hub names, local files and folders, with preview and token statistics.</source>
        <translation>来自 Hub 名称、本地文件和文件夹的校准文本，带预览和 token 统计。</translation>
    </message>
    <message>
        <source>Environment</source>
        <translation>环境</translation>
    </message>
    <message>
        <source>Checks of CUDA, the driver, MSVC x64, ninja, the Windows SDK and flash-attn, with one-click fixes.</source>
        <translation>检查 CUDA、驱动、MSVC x64、ninja、Windows SDK 和 flash-attn，并一键修复。</translation>
    </message>
    <message>
        <source>Evaluate</source>
        <translation>评估</translation>
    </message>
    <message>
        <source>Perplexity, answer comparison and KV-cache int8/int4/fp8 quality.</source>
        <translation>困惑度、回答对比以及 KV 缓存 int8/int4/fp8 质量。</translation>
    </message>
    <message>
        <source>Jobs</source>
        <translation>任务</translation>
    </message>
    <message>
        <source>The job queue and history.</source>
        <translation>任务队列与历史。</translation>
    </message>
    <message>
        <source>Monitor</source>
        <translation>监控</translation>
    </message>
    <message>
        <source>Live GPU and host memory charts and a memory planner.</source>
        <translation>实时 GPU 与主机内存图表和显存规划器。</translation>
    </message>
    <message>
        <source>Not built yet in this version.</source>
        <translation>此版本尚未提供该功能。</translation>
    </message>
    <message>
        <source>This panel failed to open. The details are in the log; please include them in a support request.</source>
        <translation>此面板无法打开。详情已写入日志；请将其附在支持请求中。</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>概览</translation>
    </message>
    <message>
        <source>Quantize</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Targets</source>
        <translation>目标</translation>
    </message>
    <message>
        <source>Export and compile for vLLM, LMDeploy, transformers, GGUF and the Edge10 NPU toolchain.</source>
        <translation>为 vLLM、LMDeploy、transformers、GGUF 和 Edge10 NPU 工具链导出与编译。</translation>
    </message>
    <message>
        <source>Quantization jobs (AWQ, GPTQ, W8A8, FP8) with per-layer progress.</source>
        <translation>量化任务（AWQ、GPTQ、W8A8、FP8），逐层显示进度。</translation>
    </message>
    <message>
        <source>Where a model stands: from the Hugging Face model to a quantized model you trust, exported or served.</source>
        <translation>模型进展到了哪一步：从 Hugging Face 模型，到可信的量化模型，再到导出或部署。</translation>
    </message>
</context>
<context>
    <name>Quantize</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Folder of the fp16/bf16 Hugging Face model</source>
        <translation>fp16/bf16 Hugging Face 模型所在文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Folder</source>
        <translation>文件夹</translation>
    </message>
    <message>
        <source>No model selected.</source>
        <translation>未选择模型。</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>校准</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Samples</source>
        <translation>样本数</translation>
    </message>
    <message>
        <source>Sequence length</source>
        <translation>序列长度</translation>
    </message>
    <message>
        <source>concatenate and cut into blocks</source>
        <translation>拼接后切分为等长块</translation>
    </message>
    <message>
        <source>one text per sample, truncated</source>
        <translation>每条文本一个样本（截断）</translation>
    </message>
    <message>
        <source>Mode</source>
        <translation>模式</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>replace an earlier QuantDesk output in that folder</source>
        <translation>替换该文件夹中以前的 QuantDesk 输出</translation>
    </message>
    <message>
        <source>replace it even though it is not a QuantDesk output</source>
        <translation>即使它不是 QuantDesk 的输出也替换</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <source>e.g. mlp.down_proj (comma separated)</source>
        <translation>例如 mlp.down_proj（逗号分隔）</translation>
    </message>
    <message>
        <source>Run on</source>
        <translation>运行位置</translation>
    </message>
    <message>
        <source>allow the model&apos;s own Python code (trust_remote_code)</source>
        <translation>允许运行模型自带的 Python 代码（trust_remote_code）</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Compute dtype</source>
        <translation>计算精度</translation>
    </message>
    <message>
        <source>Keep unquantized</source>
        <translation>不量化的模块</translation>
    </message>
    <message>
        <source>Start anyway</source>
        <translation>仍然开始</translation>
    </message>
    <message>
        <source>I closed other programs, or accept that the job may run out of memory.</source>
        <translation>我已关闭其他程序，或接受任务可能因内存不足而失败。</translation>
    </message>
    <message>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <source>Compare methods…</source>
        <translation>比较方法…</translation>
    </message>
    <message>
        <source>Quantize this model with several methods and compare size, time, perplexity and answers</source>
        <translation>用多种方法量化此模型，并比较大小、耗时、困惑度和回答</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>导出…</translation>
    </message>
    <message>
        <source>Export the finished model for a serving engine, GGUF or an NPU</source>
        <translation>导出完成的模型，用于推理引擎、GGUF 或 NPU</translation>
    </message>
    <message>
        <source>Evaluate this…</source>
        <translation>评估此模型…</translation>
    </message>
    <message>
        <source>Compare the output with its source: perplexity and answers on held-out text</source>
        <translation>把输出与源模型比较：留出文本上的困惑度和回答</translation>
    </message>
    <message>
        <source>Plan memory…</source>
        <translation>规划显存…</translation>
    </message>
    <message>
        <source>How much GPU memory the output needs, and how many tokens of KV cache fit beside it</source>
        <translation>输出需要多少 GPU 显存，以及旁边还能放下多少 token 的 KV 缓存</translation>
    </message>
    <message>
        <source>Replace a folder</source>
        <translation>替换文件夹</translation>
    </message>
    <message>
        <source>%1 was not made by QuantDesk. Replace everything in it when the job succeeds?</source>
        <translation>%1 不是 QuantDesk 生成的。任务成功后替换其中的全部内容吗？</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Calibration file</source>
        <translation>校准文件</translation>
    </message>
    <message>
        <source>%1 holds no config.json: pick a Hugging Face model folder</source>
        <translation>%1 中没有 config.json：请选择 Hugging Face 模型文件夹</translation>
    </message>
    <message>
        <source>Reading config.json…</source>
        <translation>正在读取 config.json…</translation>
    </message>
    <message>
        <source>%1 · %2 parameters · %3 layers · hidden %4 · %5</source>
        <translation>%1 · %2 参数 · %3 层 · 隐藏维度 %4 · %5</translation>
    </message>
    <message>
        <source>Pick a model folder and an output folder.</source>
        <translation>请选择模型文件夹和输出文件夹。</translation>
    </message>
    <message>
        <source>Ready to run on cluster %1; the output stays there (%2) until you fetch it</source>
        <translation>可以在集群 %1 上运行；输出会留在集群上（%2），直到您取回</translation>
    </message>
    <message>
        <source>Ready: about %1 GiB out, %2 GiB free on disk</source>
        <translation>就绪：输出约 %1 GiB，磁盘剩余 %2 GiB</translation>
    </message>
    <message>
        <source>Use a local file…</source>
        <translation>使用本地文件…</translation>
    </message>
    <message>
        <source>Use %1 (in the cache)</source>
        <translation>使用 %1（本地缓存中）</translation>
    </message>
    <message>
        <source>Use group size %1</source>
        <translation>使用分组大小 %1</translation>
    </message>
    <message>
        <source>Use sequence length %1</source>
        <translation>使用序列长度 %1</translation>
    </message>
    <message>
        <source>Use %1 samples</source>
        <translation>使用 %1 个样本</translation>
    </message>
    <message>
        <source>Job %1 queued. Follow it here or in the Jobs panel.</source>
        <translation>任务 %1 已排队。可在此处或“任务”面板中跟踪。</translation>
    </message>
    <message>
        <source>Pick a model folder first.</source>
        <translation>请先选择模型文件夹。</translation>
    </message>
    <message>
        <source>ETA %1</source>
        <translation>剩余时间 %1</translation>
    </message>
    <message>
        <source>Done: %1</source>
        <translation>完成：%1</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>Cancelled: %1</source>
        <translation>已取消：%1</translation>
    </message>
</context>
<context>
    <name>RunOn</name>
    <message>
        <source>Where the job runs. Clusters are set up in Settings &gt; Clusters; a cluster&apos;s job reads the model from its shared storage and its output stays there until you fetch it.</source>
        <translation>任务在哪里运行。集群在“设置 &gt; 集群”中配置；集群任务从共享存储读取模型，输出留在集群上，直到您取回。</translation>
    </message>
    <message>
        <source>This machine</source>
        <translation>本机</translation>
    </message>
    <message>
        <source>Cluster %1</source>
        <translation>集群 %1</translation>
    </message>
</context>
<context>
    <name>Scan</name>
    <message>
        <source>Quantize one layer at a time (round to nearest, or with AWQ&apos;s activation-aware scales), everything else in full precision, and measure the damage on held-out text.</source>
        <translation>每次只量化一层（就近舍入，或使用 AWQ 的激活感知缩放），其余保持全精度，并在留出文本上测量损伤。</translation>
    </message>
    <message>
        <source>Folder of the unquantized model</source>
        <translation>未量化模型的文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>File…</source>
        <translation>文件…</translation>
    </message>
    <message>
        <source>Held-out text</source>
        <translation>留出文本</translation>
    </message>
    <message>
        <source>one linear layer</source>
        <translation>单个线性层</translation>
    </message>
    <message>
        <source>one decoder block</source>
        <translation>单个解码器块</translation>
    </message>
    <message>
        <source>round to nearest</source>
        <translation>就近舍入</translation>
    </message>
    <message>
        <source>AWQ (activation-aware scales)</source>
        <translation>AWQ（激活感知缩放）</translation>
    </message>
    <message>
        <source>AWQ searches each layer&apos;s scales on calibration text: the tokens after the scored ones in the held-out text</source>
        <translation>AWQ 在校准文本上搜索每层的缩放：使用留出文本中评分词元之后的词元</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Bits</source>
        <translation>位数</translation>
    </message>
    <message>
        <source>Group size</source>
        <translation>分组大小</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>单位</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>token 数</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
    <message>
        <source>Run scan</source>
        <translation>开始扫描</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>排名</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>KL</source>
        <translation>KL</translation>
    </message>
    <message>
        <source>Perplexity Δ</source>
        <translation>困惑度 Δ</translation>
    </message>
    <message>
        <source>MB saved</source>
        <translation>节省 MB</translation>
    </message>
    <message>
        <source>Ranking</source>
        <translation>排名</translation>
    </message>
    <message>
        <source>KL divergence per layer</source>
        <translation>每层 KL 散度</translation>
    </message>
    <message>
        <source>Per layer</source>
        <translation>按层</translation>
    </message>
    <message>
        <source>Summed KL per module type</source>
        <translation>按模块类型汇总的 KL</translation>
    </message>
    <message>
        <source>Per module type</source>
        <translation>按模块类型</translation>
    </message>
    <message>
        <source>Use in Quantize</source>
        <translation>用于量化</translation>
    </message>
    <message>
        <source>Open the Quantize panel on this model with these layers in &quot;Keep unquantized&quot;</source>
        <translation>在量化面板中打开此模型，并把这些层填入“保持不量化”</translation>
    </message>
    <message>
        <source>fp16 budget</source>
        <translation>fp16 预算</translation>
    </message>
    <message>
        <source>ETA %1</source>
        <translation>剩余时间 %1</translation>
    </message>
    <message>
        <source>Unquantized perplexity %1; everything at W%2 g%3 with AWQ scales: %4; keeping %5 in fp16: %6.</source>
        <translation>未量化困惑度 %1；全部以 W%2 g%3 加 AWQ 缩放量化：%4；将 %5 保持为 fp16：%6。</translation>
    </message>
    <message>
        <source>%1 MB</source>
        <translation>%1 MB</translation>
    </message>
    <message>
        <source>Run a scan first</source>
        <translation>请先运行扫描</translation>
    </message>
    <message>
        <source>Keep these %1 layers in fp16: +%2 MB, perplexity from %3 to %4 (predicted).</source>
        <translation>将这 %1 层保持为 fp16：+%2 MB，困惑度从 %3 降到 %4（预测）。</translation>
    </message>
    <message>
        <source>No layer fits in this budget: move the slider right.</source>
        <translation>此预算内放不下任何层：请把滑块向右移动。</translation>
    </message>
    <message>
        <source>Predicted: the unquantized perplexity plus the measured change of every layer left quantized (the changes are assumed to add up).</source>
        <translation>预测值：未量化困惑度加上每个仍被量化的层实测的变化（假设各层变化可以相加）。</translation>
    </message>
    <message>
        <source>No layer fits in this budget</source>
        <translation>此预算内放不下任何层</translation>
    </message>
    <message>
        <source>Predicted %1 → %2; not measured yet: quantize with this list, then evaluate the output.</source>
        <translation>预测 %1 → %2；尚未实测：用此列表量化，然后评估输出。</translation>
    </message>
    <message>
        <source>Predicted %1 → %2, measured %3 (evaluation %4 of %5).</source>
        <translation>预测 %1 → %2，实测 %3（评估 %4，模型 %5）。</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>Pick the model folder (a full path).</source>
        <translation>请选择模型文件夹（完整路径）。</translation>
    </message>
    <message>
        <source>Pick the held-out text.</source>
        <translation>请选择留出文本。</translation>
    </message>
    <message>
        <source>Job %1 queued.</source>
        <translation>任务 %1 已排队。</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>完成，用时 %1 秒。</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
    <message>
        <source>Unquantized perplexity %1; everything at W%2 g%3: %4; keeping %5 in fp16: %6.</source>
        <translation>未量化困惑度 %1；全部 W%2 g%3：%4；保留 %5 为 fp16：%6。</translation>
    </message>
</context>
<context>
    <name>Serve</name>
    <message>
        <source>pass</source>
        <translation>通过</translation>
    </message>
    <message>
        <source>check the answers</source>
        <translation>请检查回答</translation>
    </message>
    <message>
        <source>fail</source>
        <translation>未通过</translation>
    </message>
    <message>
        <source>no answers</source>
        <translation>没有回答</translation>
    </message>
    <message>
        <source>every answer is empty: the model or its chat template is broken</source>
        <translation>所有回答都为空：模型或其对话模板有问题</translation>
    </message>
    <message>
        <source>%1 of %2 parallel requests failed</source>
        <translation>%2 个并发请求中有 %1 个失败</translation>
    </message>
    <message>
        <source>answers received, but no source model to compare with: read them</source>
        <translation>已收到回答，但没有可对比的源模型：请阅读回答</translation>
    </message>
    <message>
        <source>answers are close to the source&apos;s greedy answers (%3 similar)</source>
        <translation>回答与源模型的贪心解码回答接近（相似度 %3）</translation>
    </message>
    <message>
        <source>answers are only %3 similar to the source&apos;s: read them before shipping</source>
        <translation>回答与源模型的相似度只有 %3：发布前请阅读回答</translation>
    </message>
    <message>
        <source>answers are only %3 similar to the source&apos;s: do not ship this model</source>
        <translation>回答与源模型的相似度只有 %3：请勿发布此模型</translation>
    </message>
    <message>
        <source>Similarity</source>
        <translation>相似度</translation>
    </message>
    <message>
        <source> (%1 empty answers)</source>
        <translation>（%1 个空回答）</translation>
    </message>
    <message>
        <source>%1 served %2 at %3; ready after %4 s</source>
        <translation>%1 在 %3 部署了 %2；%4 秒后就绪</translation>
    </message>
    <message>
        <source>median time to first token %1 s · median %2 tokens/s</source>
        <translation>首 token 延迟中位数 %1 秒 · 速度中位数 %2 token/秒</translation>
    </message>
    <message>
        <source>%1 requests at once: %2 tokens/s, latency p50 %3 s, p95 %4 s</source>
        <translation>%1 个并发请求：%2 token/秒，延迟 p50 %3 秒，p95 %4 秒</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示词</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>回答</translation>
    </message>
    <message>
        <source>Ask the served model a question below.</source>
        <translation>在下方向已部署的模型提问。</translation>
    </message>
    <message>
        <source>Your question</source>
        <translation>您的问题</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Serving at %1 (OpenAI API)</source>
        <translation>服务地址 %1（OpenAI API）</translation>
    </message>
    <message>
        <source>(%1 tokens, first after %2 s, %3 tokens/s)
</source>
        <translation>（%1 个 token，首 token 用时 %2 秒，%3 token/秒）
</translation>
    </message>
    <message>
        <source>The server did not answer: %1
</source>
        <translation>服务未响应：%1
</translation>
    </message>
</context>
<context>
    <name>Settings</name>
    <message>
        <source>Weight bits</source>
        <translation>权重位数</translation>
    </message>
    <message>
        <source>Group size</source>
        <translation>分组大小</translation>
    </message>
    <message>
        <source>zero point (asymmetric)</source>
        <translation>零点（非对称）</translation>
    </message>
    <message>
        <source>Kernel layout</source>
        <translation>内核布局</translation>
    </message>
    <message>
        <source>Activation order (GPTQ)</source>
        <translation>激活排序（GPTQ）</translation>
    </message>
    <message>
        <source>Dampening (GPTQ)</source>
        <translation>阻尼系数（GPTQ）</translation>
    </message>
    <message>
        <source>Smoothing strength (W8A8)</source>
        <translation>平滑强度（W8A8）</translation>
    </message>
    <message>
        <source>GPU</source>
        <translation>GPU</translation>
    </message>
    <message>
        <source>GPU memory (GiB)</source>
        <translation>GPU 显存 (GiB)</translation>
    </message>
    <message>
        <source>Context (tokens)</source>
        <translation>上下文（token）</translation>
    </message>
    <message>
        <source>Sequences at once</source>
        <translation>同时服务的序列数</translation>
    </message>
    <message>
        <source>KV cache</source>
        <translation>KV 缓存</translation>
    </message>
    <message>
        <source>Tensor parallel (GPUs)</source>
        <translation>张量并行（GPU 数）</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Served model name</source>
        <translation>服务模型名</translation>
    </message>
    <message>
        <source>Engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <source>GGUF type</source>
        <translation>GGUF 类型</translation>
    </message>
    <message>
        <source>llama-quantize</source>
        <translation>llama-quantize</translation>
    </message>
    <message>
        <source>NPU dies</source>
        <translation>NPU die 数</translation>
    </message>
    <message>
        <source>Prefill length</source>
        <translation>预填充长度</translation>
    </message>
    <message>
        <source>Max KV length</source>
        <translation>最大 KV 长度</translation>
    </message>
    <message>
        <source>Image tag</source>
        <translation>镜像标签</translation>
    </message>
    <message>
        <source>LM die remap (16)</source>
        <translation>LM die 重映射（16 项）</translation>
    </message>
    <message>
        <source>VM die remap (16)</source>
        <translation>VM die 重映射（16 项）</translation>
    </message>
    <message>
        <source>Compile threads</source>
        <translation>编译线程数</translation>
    </message>
    <message>
        <source>compare logits with the source after writing</source>
        <translation>写入后与源模型比较 logits</translation>
    </message>
    <message>
        <source>Registry</source>
        <translation>镜像仓库</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精度</translation>
    </message>
    <message>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <source>auto</source>
        <translation>自动</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>General</source>
        <translation>常规</translation>
    </message>
    <message>
        <source>Clusters</source>
        <translation>集群</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Applies at once; &quot;Follow the system&quot; also follows a change of the desktop&apos;s light or dark mode</source>
        <translation>立即生效；“跟随系统”还会随桌面的浅色/深色模式切换</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Default output folder</source>
        <translation>默认输出文件夹</translation>
    </message>
    <message>
        <source>How many jobs run at once. One is safest on a single GPU.</source>
        <translation>同时运行的任务数。单 GPU 上设为 1 最稳妥。</translation>
    </message>
    <message>
        <source>Jobs at once</source>
        <translation>同时运行的任务</translation>
    </message>
    <message>
        <source>This window runs in %1 (chosen when it started).</source>
        <translation>此窗口当前使用 %1（启动时选定）。</translation>
    </message>
    <message>
        <source>A new language applies when QuantDesk restarts.</source>
        <translation>新语言在 QuantDesk 重启后生效。</translation>
    </message>
    <message>
        <source>Save and restart now</source>
        <translation>保存并立即重启</translation>
    </message>
</context>
<context>
    <name>Support</name>
    <message>
        <source>Export logs</source>
        <translation>导出日志</translation>
    </message>
    <message>
        <source>A zip for a problem report: app logs, recent jobs, the environment report, settings and versions. Tokens, keys, passwords, e-mail addresses and your user and machine names are replaced before anything is written.</source>
        <translation>用于问题报告的 zip：应用日志、最近的任务、环境报告、设置和版本。写入之前会替换令牌、密钥、密码、电子邮件地址以及你的用户名和计算机名。</translation>
    </message>
    <message>
        <source>include the environment report</source>
        <translation>包含环境报告</translation>
    </message>
    <message>
        <source>Newest jobs</source>
        <translation>最近的任务数</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Save zip…</source>
        <translation>保存 zip…</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Collecting…</source>
        <translation>正在收集…</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>%1 files, %2 MB. Redacted: %3.</source>
        <translation>%1 个文件，%2 MB。已脱敏：%3。</translation>
    </message>
    <message>
        <source>%1 old logs left out to stay under the size cap.</source>
        <translation>为不超过大小上限，省略了 %1 个较早的日志。</translation>
    </message>
    <message>
        <source>Save support bundle</source>
        <translation>保存支持包</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
</context>
<context>
    <name>Targets</name>
    <message>
        <source>an OpenAI-compatible server: vllm serve with flags sized for your GPU</source>
        <translation>兼容 OpenAI 的服务：按你的 GPU 计算参数的 vllm serve</translation>
    </message>
    <message>
        <source>lmdeploy serve api_server and lmdeploy chat (TurboMind or PyTorch engine)</source>
        <translation>lmdeploy serve api_server 与 lmdeploy chat（TurboMind 或 PyTorch 引擎）</translation>
    </message>
    <message>
        <source>load it in your own Python: a verified load_example.py</source>
        <translation>在你自己的 Python 中加载：经过验证的 load_example.py</translation>
    </message>
    <message>
        <source>one .gguf file for llama.cpp, Ollama and LM Studio, with a Modelfile</source>
        <translation>一个 .gguf 文件，用于 llama.cpp、Ollama 和 LM Studio，附 Modelfile</translation>
    </message>
    <message>
        <source>the Edge10 / TyLLM NPU: checkpoint conversion and AOT compile in the vendor&apos;s Docker images</source>
        <translation>Edge10 / TyLLM NPU：在厂商 Docker 镜像中转换检查点并进行 AOT 编译</translation>
    </message>
    <message>
        <source>QServe W4A8KV4: scripts for DeepCompressor&apos;s QoQ, OmniServe&apos;s converter and generation (Linux, CUDA)</source>
        <translation>QServe W4A8KV4：DeepCompressor QoQ 量化、OmniServe 转换与生成的脚本（Linux、CUDA）</translation>
    </message>
    <message>
        <source>Input and output</source>
        <translation>输入与输出</translation>
    </message>
    <message>
        <source>Folder of the model to export (quantized or not)</source>
        <translation>要导出的模型文件夹（量化或未量化）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>replace an earlier QuantDesk export in that folder</source>
        <translation>替换该文件夹中先前的 QuantDesk 导出</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Build</source>
        <translation>构建</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>结果</translation>
    </message>
    <message>
        <source>The command appears here once checked.</source>
        <translation>检查通过后命令显示在这里。</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>detected, or e.g. 4090, A100 40GB</source>
        <translation>自动检测，或如 4090、A100 40GB</translation>
    </message>
    <message>
        <source>Model folder</source>
        <translation>模型文件夹</translation>
    </message>
    <message>
        <source>scripts only</source>
        <translation>仅生成脚本</translation>
    </message>
    <message>
        <source>prerequisites missing</source>
        <translation>缺少前提条件</translation>
    </message>
    <message>
        <source>ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>Fix: %1</source>
        <translation>修复：%1</translation>
    </message>
    <message>
        <source>Pick a model folder and an output folder.</source>
        <translation>请选择模型文件夹和输出文件夹。</translation>
    </message>
    <message>
        <source>Ready to build.</source>
        <translation>可以构建。</translation>
    </message>
    <message>
        <source>Memory plan per GPU: weights %1 GiB, KV cache %2 GiB (%3 tokens, %4 sequences at full context), activations and other %5 GiB of %6 GiB. %7 %8</source>
        <translation>每块 GPU 的显存规划：权重 %1 GiB，KV 缓存 %2 GiB（%3 个 token，满上下文 %4 个序列），激活及其他 %5 GiB，共 %6 GiB。%7 %8</translation>
    </message>
    <message>
        <source>Job %1 queued.</source>
        <translation>任务 %1 已排队。</translation>
    </message>
    <message>
        <source>Done: %1</source>
        <translation>完成：%1</translation>
    </message>
    <message>
        <source>Verify: passed. %1</source>
        <translation>验证：通过。%1</translation>
    </message>
    <message>
        <source>Built. Change a setting or the output folder to build again.</source>
        <translation>已构建。修改设置或输出文件夹后可再次构建。</translation>
    </message>
    <message>
        <source>Failed: %1</source>
        <translation>失败：%1</translation>
    </message>
</context>
</TS>
