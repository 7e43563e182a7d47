<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>Qt for Python: the window (includes the Qt 6 libraries)</source>
        <translation>Qt for Python：程序窗口（包含 Qt 6 库）</translation>
    </message>
    <message>
        <source>PySide6&apos;s binding runtime</source>
        <translation>PySide6 的绑定运行库</translation>
    </message>
    <message>
        <source>HTTP downloads</source>
        <translation>HTTP 下载</translation>
    </message>
    <message>
        <source>HTTP connections and retries</source>
        <translation>HTTP 连接和重试</translation>
    </message>
    <message>
        <source>the system&apos;s certificate store for HTTPS</source>
        <translation>为 HTTPS 使用系统的证书存储</translation>
    </message>
    <message>
        <source>certificates when the system has none</source>
        <translation>系统没有证书时使用的证书</translation>
    </message>
    <message>
        <source>text encodings (for requests)</source>
        <translation>文本编码（供 requests 使用）</translation>
    </message>
    <message>
        <source>international host names (for requests)</source>
        <translation>国际化域名（供 requests 使用）</translation>
    </message>
    <message>
        <source>processes, disks and memory</source>
        <translation>进程、磁盘和内存</translation>
    </message>
    <message>
        <source>where logs and caches go</source>
        <translation>日志和缓存的存放位置</translation>
    </message>
    <message>
        <source>versions and requirements</source>
        <translation>版本号和依赖要求</translation>
    </message>
    <message>
        <source>writing TOML answer files</source>
        <translation>写入 TOML 应答文件</translation>
    </message>
    <message>
        <source>reading environment.yml files</source>
        <translation>读取 environment.yml 文件</translation>
    </message>
    <message>
        <source>asking the NVIDIA driver about the GPU</source>
        <translation>向 NVIDIA 驱动查询 GPU 信息</translation>
    </message>
    <message>
        <source>the bootloader that starts the packaged builds</source>
        <translation>启动打包版本的引导程序</translation>
    </message>
    <message>
        <source>Part</source>
        <translation>组件</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>Used for</source>
        <translation>用途</translation>
    </message>
    <message>
        <source>packaged builds only</source>
        <translation>仅打包版本</translation>
    </message>
    <message>
        <source>not installed</source>
        <translation>未安装</translation>
    </message>
    <message>
        <source>PySide6 and the Qt 6 libraries it contains are used under the GNU Lesser General Public License version 3 ({lgpl}). They are separate shared libraries: you may replace them with your own build of the same version. Their source code: PySide6 at {pyside}, Qt at {qt}.</source>
        <translation>PySide6 及其包含的 Qt 6 库依据 GNU 宽通用公共许可证第 3 版（{lgpl}）使用。它们是独立的共享库：你可以用自己构建的同一版本替换它们。源代码：PySide6 位于 {pyside}，Qt 位于 {qt}。</translation>
    </message>
    <message>
        <source>Anaconda legal: End User License Agreement</source>
        <translation>Anaconda 法律信息：最终用户许可协议</translation>
    </message>
    <message>
        <source>Anaconda Terms of Service</source>
        <translation>Anaconda 服务条款</translation>
    </message>
    <message>
        <source>Miniconda, which this wizard downloads and installs, is Anaconda&apos;s software, under its licence ({license}); using it and Anaconda&apos;s default channels is governed by the {tos}.</source>
        <translation>本向导下载并安装的 Miniconda 是 Anaconda 的软件，依据其许可证（{license}）提供；使用它以及 Anaconda 的 defaults 渠道受 {tos} 约束。</translation>
    </message>
    <message>
        <source>Miniconda and Anaconda</source>
        <translation>Miniconda 和 Anaconda</translation>
    </message>
    <message>
        <source>Third-party parts</source>
        <translation>第三方组件</translation>
    </message>
    <message>
        <source>Qt and PySide6 (LGPL-3.0)</source>
        <translation>Qt 和 PySide6（LGPL-3.0）</translation>
    </message>
    <message>
        <source>About Miniconda Setup Wizard</source>
        <translation>关于 Miniconda 安装向导</translation>
    </message>
    <message>
        <source>&lt;b&gt;Miniconda Setup Wizard&lt;/b&gt; {version}&lt;br&gt;Python {python}, PySide6 {pyside}, Qt {qt}</source>
        <translation>&lt;b&gt;Miniconda 安装向导&lt;/b&gt; {version}&lt;br&gt;Python {python}，PySide6 {pyside}，Qt {qt}</translation>
    </message>
    <message>
        <source>Licences and terms</source>
        <translation>许可证和条款</translation>
    </message>
</context>
<context>
    <name>DownloadPage</name>
    <message>
        <source>1 connection</source>
        <extracomment>A downloader log line that announces a retry: &quot;... retrying (1/4).&quot; or &quot;... resuming (2/4).&quot;. A retry line of the downloader: ``retry 2/5: ...`` (app.core.download / segments / net), or the older ``... retrying (2/5)`` wording.</extracomment>
        <translation>1 个连接</translation>
    </message>
    <message>
        <source>{n} connections</source>
        <translation>{n} 个连接</translation>
    </message>
    <message>
        <source>1 retry</source>
        <translation>重试 1 次</translation>
    </message>
    <message>
        <source>{n} retries</source>
        <translation>重试 {n} 次</translation>
    </message>
    <message>
        <source>mirror {mirror}</source>
        <translation>镜像 {mirror}</translation>
    </message>
    <message>
        <source>Download the installer</source>
        <translation>下载安装程序</translation>
    </message>
    <message>
        <source>The installer is saved next to a partial file first and used only after its SHA-256 matches the published one.</source>
        <translation>安装程序先保存为一个未完成的部分文件，只有在其 SHA-256 与公布的值一致后才会使用。</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Cancel download</source>
        <translation>取消下载(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Retry</source>
        <translation>重试(&amp;R)</translation>
    </message>
    <message>
        <source>Download log</source>
        <translation>下载日志</translation>
    </message>
    <message>
        <source>Details:</source>
        <translation>详细信息：</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>Check the installer</source>
        <translation>检查安装程序</translation>
    </message>
    <message>
        <source>Checking the local file {path}</source>
        <translation>正在检查本地文件 {path}</translation>
    </message>
    <message>
        <source>Downloading {name}
from {url}</source>
        <translation>正在下载 {name}
来源：{url}</translation>
    </message>
    <message>
        <source>Resuming from {done}…</source>
        <translation>从 {done} 处继续…</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>正在连接…</translation>
    </message>
    <message>
        <source>Pausing…</source>
        <translation>正在暂停…</translation>
    </message>
    <message>
        <source>Saved as {path}</source>
        <translation>已保存为 {path}</translation>
    </message>
    <message>
        <source>SHA-256 verified.</source>
        <translation>SHA-256 校验通过。</translation>
    </message>
    <message>
        <source>Not verified: no SHA-256 is published for this installer.</source>
        <translation>未校验：此安装程序没有公布 SHA-256。</translation>
    </message>
    <message>
        <source>Downloaded {name}
from {url}</source>
        <translation>已下载 {name}
来源：{url}</translation>
    </message>
    <message>
        <source>SHA-256 mismatch: </source>
        <translation>SHA-256 不一致：</translation>
    </message>
    <message>
        <source>Paused at {done} of {total}.</source>
        <translation>已暂停，已下载 {done}，共 {total}。</translation>
    </message>
    <message>
        <source>Paused.</source>
        <translation>已暂停。</translation>
    </message>
    <message>
        <source>No data is downloaded while paused; Resume continues where it stopped.</source>
        <translation>暂停期间不下载任何数据；点击“继续”从中断处接着下载。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>The partial download is kept; Retry continues where it stopped.</source>
        <translation>已下载的部分会保留；点击“重试”从中断处接着下载。</translation>
    </message>
</context>
<context>
    <name>EngineWorker</name>
    <message>
        <source>Unexpected error: {error}</source>
        <translation>意外错误：{error}</translation>
    </message>
    <message>
        <source>This is a bug in the wizard. Please report it with the log file.</source>
        <translation>这是向导的缺陷。请附上日志文件报告此问题。</translation>
    </message>
</context>
<context>
    <name>EnvPage</name>
    <message>
        <source>Create a conda env for LLM work</source>
        <translation>为大语言模型（LLM）工作创建 conda 环境</translation>
    </message>
    <message>
        <source>An env keeps the packages for your projects apart from Miniconda itself. The preset is chosen from this machine; you can change it.</source>
        <translation>环境把项目所需的软件包与 Miniconda 本身分开。预设方案根据这台计算机选择，你可以更改。</translation>
    </message>
    <message>
        <source>Create an env</source>
        <translation>创建环境</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设方案</translation>
    </message>
    <message>
        <source>auto: chosen from this machine</source>
        <translation>auto：根据这台计算机选择</translation>
    </message>
    <message>
        <source>PyTorch build</source>
        <translation>PyTorch 构建变体</translation>
    </message>
    <message>
        <source>auto: chosen from the GPU and driver</source>
        <translation>auto：根据 GPU 和驱动选择</translation>
    </message>
    <message>
        <source>PyTorch build:</source>
        <translation>PyTorch 构建变体：</translation>
    </message>
    <message>
        <source>Env name</source>
        <translation>环境名称</translation>
    </message>
    <message>
        <source>Python version</source>
        <translation>Python 版本</translation>
    </message>
    <message>
        <source>Python:</source>
        <translation>Python：</translation>
    </message>
    <message>
        <source>Packages</source>
        <translation>软件包</translation>
    </message>
    <message>
        <source>extra conda packages, space-separated, e.g. numpy&gt;=1.26</source>
        <translation>额外的 conda 软件包，用空格分隔，例如 numpy&gt;=1.26</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>渠道</translation>
    </message>
    <message>
        <source>defaults (Anaconda)</source>
        <translation>defaults（Anaconda）</translation>
    </message>
    <message>
        <source>Channel names or URLs, separated by spaces. When given, they replace the channels in Miniconda&apos;s .condarc; add “defaults” to keep Anaconda&apos;s.</source>
        <translation>渠道名称或 URL，用空格分隔。填写后将替换 Miniconda 的 .condarc 中的渠道；如需保留 Anaconda 的渠道，请加上“defaults”。</translation>
    </message>
    <message>
        <source>environment.yml file</source>
        <translation>environment.yml 文件</translation>
    </message>
    <message>
        <source>none: the preset decides what is installed</source>
        <translation>无：由预设方案决定安装什么</translation>
    </message>
    <message>
        <source>&amp;Import environment.yml…</source>
        <translation>导入 environment.yml(&amp;I)…</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清除</translation>
    </message>
    <message>
        <source>I accept the Anaconda Terms of Service for the defaults channels</source>
        <translation>我接受 Anaconda 对 defaults 渠道的服务条款</translation>
    </message>
    <message>
        <source>Read the Terms of Service</source>
        <translation>阅读服务条款</translation>
    </message>
    <message>
        <source>Free for individuals and small organisations; larger ones need a licence.</source>
        <translation>个人和小型组织可免费使用；较大的组织需要许可证。</translation>
    </message>
    <message>
        <source>Only needed when the env uses Anaconda&apos;s defaults channels; with conda-forge alone no ToS applies.</source>
        <translation>仅当环境使用 Anaconda 的 defaults 渠道时才需要；只用 conda-forge 时不涉及服务条款。</translation>
    </message>
    <message>
        <source>Then check the GPU with a short training run ({steps} steps)</source>
        <translation>然后用一次简短的训练（{steps} 步）检查 GPU</translation>
    </message>
    <message>
        <source>Preset:</source>
        <translation>预设方案：</translation>
    </message>
    <message>
        <source>Env name:</source>
        <translation>环境名称：</translation>
    </message>
    <message>
        <source>Packages:</source>
        <translation>软件包：</translation>
    </message>
    <message>
        <source>Channels:</source>
        <translation>渠道：</translation>
    </message>
    <message>
        <source>environment.yml:</source>
        <translation>environment.yml：</translation>
    </message>
    <message>
        <source>C&amp;reate env</source>
        <translation>创建环境(&amp;R)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Cancel creating the env</source>
        <translation>取消创建环境</translation>
    </message>
    <message>
        <source>What will run</source>
        <translation>将要执行的操作</translation>
    </message>
    <message>
        <source>conda output</source>
        <translation>conda 输出</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <source>Not started.</source>
        <translation>尚未开始。</translation>
    </message>
    <message>
        <source>Import environment.yml</source>
        <translation>导入 environment.yml</translation>
    </message>
    <message>
        <source>Conda environment files (*.yml *.yaml);;All files (*)</source>
        <translation>Conda 环境文件 (*.yml *.yaml);;所有文件 (*)</translation>
    </message>
    <message>
        <source>&lt;b&gt;{title}&lt;/b&gt;&lt;br&gt;Checking the GPU…</source>
        <translation>&lt;b&gt;{title}&lt;/b&gt;&lt;br&gt;正在检查 GPU…</translation>
    </message>
    <message>
        <source>To fix before Create:</source>
        <translation>创建前需要修正：</translation>
    </message>
    <message>
        <source>Where each part comes from (set by the mirror chosen on the first page):</source>
        <translation>各部分的下载来源（由第一页选择的镜像决定）：</translation>
    </message>
    <message>
        <source>Commands that will run, in order (python = the env&apos;s own Python):</source>
        <translation>将按顺序执行的命令（python = 该环境自己的 Python）：</translation>
    </message>
    <message>
        <source>(the PyTorch command follows once the GPU has been checked…)</source>
        <translation>（检查完 GPU 后会列出 PyTorch 的安装命令…）</translation>
    </message>
    <message>
        <source>Warnings:</source>
        <translation>警告：</translation>
    </message>
    <message>
        <source>Chosen by you.</source>
        <translation>由你选择。</translation>
    </message>
    <message>
        <source>Chosen by you under PyTorch build:</source>
        <translation>由你在“PyTorch 构建变体”中选择：</translation>
    </message>
    <message>
        <source>Anaconda&apos;s defaults</source>
        <translation>Anaconda 的 defaults</translation>
    </message>
    <message>
        <source>I accept the Terms of Service of these channels: {names}</source>
        <translation>我接受以下渠道的服务条款：{names}</translation>
    </message>
    <message>
        <source>Checking whether {channels} asks for Terms of Service…</source>
        <translation>正在检查 {channels} 是否要求接受服务条款…</translation>
    </message>
    <message>
        <source>Tick the Terms of Service box: conda uses channels with terms ({channels}).</source>
        <translation>请勾选服务条款复选框：conda 使用的渠道有服务条款（{channels}）。</translation>
    </message>
    <message>
        <source>{n} problem(s) in {file}, listed under What will run.</source>
        <translation>{file} 中有 {n} 个问题，列在“将要执行的操作”下。</translation>
    </message>
    <message>
        <source>Create stays off until the environment.yml is fixed: fix the file, then import it again.</source>
        <translation>在 environment.yml 修正之前无法创建：请修正该文件，然后重新导入。</translation>
    </message>
    <message>
        <source>No problems found in {file}.</source>
        <translation>{file} 中未发现问题。</translation>
    </message>
    <message>
        <source>No env will be created; you can make one later with “conda create”.</source>
        <translation>不会创建环境；你以后可以用“conda create”创建。</translation>
    </message>
    <message>
        <source>and {n} more: see What will run</source>
        <translation>另有 {n} 项：见“将要执行的操作”</translation>
    </message>
    <message>
        <source>The env {name} already exists in {path}; it will be used as it is.</source>
        <translation>环境 {name} 已存在于 {path}；将按原样使用。</translation>
    </message>
    <message>
        <source>The env {name} in {path} will be replaced: everything in it is deleted.</source>
        <translation>{path} 中的环境 {name} 将被替换：其中的所有内容都会被删除。</translation>
    </message>
    <message>
        <source>An env named {name} already exists in {path}.</source>
        <translation>{path} 中已存在名为 {name} 的环境。</translation>
    </message>
    <message>
        <source>Create asks whether to use it, replace it, or choose another name.</source>
        <translation>点击创建时会询问：使用它、替换它，还是换一个名称。</translation>
    </message>
    <message>
        <source>Checking the GPU…</source>
        <translation>正在检查 GPU…</translation>
    </message>
    <message>
        <source>Ready, with a warning (see What will run):</source>
        <translation>已就绪，但有警告（见“将要执行的操作”）：</translation>
    </message>
    <message>
        <source>Ready: Create runs the commands under “What will run”.</source>
        <translation>已就绪：点击创建将执行“将要执行的操作”中的命令。</translation>
    </message>
    <message>
        <source>solving: conda is reading the channels; this takes a few minutes…</source>
        <translation>正在求解：conda 正在读取渠道，这需要几分钟…</translation>
    </message>
    <message>
        <source>The env already exists</source>
        <translation>环境已存在</translation>
    </message>
    <message>
        <source>Use it as it is, replace it (everything in it is deleted), or choose another name for the new env?</source>
        <translation>按原样使用它、替换它（其中所有内容都会被删除），还是为新环境另选一个名称？</translation>
    </message>
    <message>
        <source>&amp;Use it</source>
        <translation>使用它(&amp;U)</translation>
    </message>
    <message>
        <source>&amp;Replace it</source>
        <translation>替换它(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Choose another name</source>
        <translation>另选名称(&amp;C)</translation>
    </message>
    <message>
        <source>Done.</source>
        <translation>完成。</translation>
    </message>
    <message>
        <source>Other conda settings in force: {w}</source>
        <translation>其他生效中的 conda 设置：{w}</translation>
    </message>
    <message>
        <source>Created the env {name} in {prefix}</source>
        <translation>已在 {prefix} 中创建环境 {name}</translation>
    </message>
    <message>
        <source>; checked:</source>
        <translation>；已检查：</translation>
    </message>
    <message>
        <source>; some checks failed:</source>
        <translation>；部分检查未通过：</translation>
    </message>
    <message>
        <source>Creating the env failed.</source>
        <translation>创建环境失败。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>Cancelled. Press Create env to try again.</source>
        <translation>已取消。点击“创建环境”可重试。</translation>
    </message>
</context>
<context>
    <name>ExistingInstallWidget</name>
    <message>
        <source>Choose what to do with it above, or choose another folder.</source>
        <translation>请在上方选择如何处理它，或选择其他文件夹。</translation>
    </message>
    <message>
        <source>The installation in {prefix} is reused as it is: the installer does not run.</source>
        <translation>{prefix} 中的安装将原样沿用：不运行安装程序。</translation>
    </message>
    <message>
        <source>The incomplete installation in {prefix} is removed and installed again.</source>
        <translation>{prefix} 中不完整的安装将被删除并重新安装。</translation>
    </message>
    <message>
        <source>Nothing to do.</source>
        <translation>无需操作。</translation>
    </message>
    <message>
        <source>Uninstall {prefix}? The wizard will:

{text}

Files you edited since are kept.</source>
        <translation>卸载 {prefix}？向导将会：

{text}

你之后编辑过的文件会保留。</translation>
    </message>
    <message>
        <source>Reuse it as it is: skip the installer, then set up PATH, the env and the GPU check</source>
        <translation>按原样沿用：跳过安装程序，然后设置 PATH、环境和 GPU 检查</translation>
    </message>
    <message>
        <source>Update it: run the installer over it (envs are kept)</source>
        <translation>更新：在其上运行安装程序（保留各环境）</translation>
    </message>
    <message>
        <source>Repair it</source>
        <translation>修复</translation>
    </message>
    <message>
        <source>Uninstall it…</source>
        <translation>卸载…</translation>
    </message>
    <message>
        <source>Choose another folder</source>
        <translation>选择其他文件夹</translation>
    </message>
    <message>
        <source>{prefix} holds an incomplete installation made by this wizard ({why}).</source>
        <translation>{prefix} 中有本向导留下的不完整安装（{why}）。</translation>
    </message>
    <message>
        <source>{prefix} already holds conda {version}</source>
        <translation>{prefix} 中已有 conda {version}</translation>
    </message>
    <message>
        <source>{prefix} already holds a conda installation</source>
        <translation>{prefix} 中已有 conda 安装</translation>
    </message>
    <message>
        <source>, installed by this wizard.</source>
        <translation>，由本向导安装。</translation>
    </message>
    <message>
        <source>.</source>
        <translation>。</translation>
    </message>
    <message>
        <source>{prefix} is not empty and holds no conda installation.</source>
        <translation>{prefix} 不是空文件夹，且其中没有 conda 安装。</translation>
    </message>
    <message>
        <source>Repair it: remove the incomplete installation and install again</source>
        <translation>修复：删除不完整的安装并重新安装</translation>
    </message>
    <message>
        <source>Repair it: run the installer over it (envs are kept)</source>
        <translation>修复：在其上运行安装程序（保留各环境）</translation>
    </message>
    <message>
        <source>Uninstalled {prefix}.</source>
        <translation>已卸载 {prefix}。</translation>
    </message>
    <message>
        <source>Uninstall</source>
        <translation>卸载</translation>
    </message>
</context>
<context>
    <name>FinishPage</name>
    <message>
        <source>Miniconda is ready</source>
        <translation>Miniconda 已就绪</translation>
    </message>
    <message>
        <source>Here is what was done. Keep the commands below for your first session.</source>
        <translation>以下是已完成的操作。请保留下面的命令，首次使用时需要。</translation>
    </message>
    <message>
        <source>&lt;b&gt;What to do next&lt;/b&gt;</source>
        <translation>&lt;b&gt;接下来怎么做&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Commands to run next</source>
        <translation>接下来要运行的命令</translation>
    </message>
    <message>
        <source>&amp;Copy commands</source>
        <translation>复制命令(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Save these choices for silent install…</source>
        <translation>保存这些选择用于静默安装(&amp;S)…</translation>
    </message>
    <message>
        <source>Save these choices for silent install</source>
        <translation>保存这些选择用于静默安装</translation>
    </message>
    <message>
        <source>Write a TOML answer file that installs other machines the same way: miniconda-wizard --silent --config FILE</source>
        <translation>写入一个 TOML 应答文件，用它以同样的方式安装其他计算机：miniconda-wizard --silent --config FILE</translation>
    </message>
    <message>
        <source>Log file: {path}</source>
        <translation>日志文件：{path}</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <source>SHA-256 verified</source>
        <translation>SHA-256 校验通过</translation>
    </message>
    <message>
        <source>not verified</source>
        <translation>未校验</translation>
    </message>
    <message>
        <source>Installer: {name} ({verified})</source>
        <translation>安装程序：{name}（{verified}）</translation>
    </message>
    <message>
        <source>Miniconda: conda {version} in {prefix}</source>
        <translation>Miniconda：conda {version}，位于 {prefix}</translation>
    </message>
    <message>
        <source>Shell set-up (undo with “miniconda-wizard --undo-shell-changes”):</source>
        <translation>Shell 设置（可用“miniconda-wizard --undo-shell-changes”撤销）：</translation>
    </message>
    <message>
        <source>Shell set-up: nothing needed changing.</source>
        <translation>Shell 设置：无需更改。</translation>
    </message>
    <message>
        <source>Shell set-up: none chosen.</source>
        <translation>Shell 设置：未选择。</translation>
    </message>
    <message>
        <source>Env: {name} in {prefix}</source>
        <translation>环境：{name}，位于 {prefix}</translation>
    </message>
    <message>
        <source>Env: none created.</source>
        <translation>环境：未创建。</translation>
    </message>
    <message>
        <source>GPU check: {verdict}</source>
        <translation>GPU 检查：{verdict}</translation>
    </message>
    <message>
        <source>GPU check: not completed.</source>
        <translation>GPU 检查：未完成。</translation>
    </message>
    <message>
        <source># Open a new terminal first (it reads the changed start-up file), then:</source>
        <translation># 先打开一个新终端（它会读取已修改的启动文件），然后：</translation>
    </message>
    <message>
        <source># conda init was not run; in each new terminal first type:</source>
        <translation># 未运行 conda init；在每个新终端中先输入：</translation>
    </message>
    <message>
        <source>TOML answer files (*.toml);;All files (*)</source>
        <translation>TOML 应答文件 (*.toml);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Cannot save the answer file {path}: {reason}</source>
        <translation>无法保存应答文件 {path}：{reason}</translation>
    </message>
    <message>
        <source>Choose another folder or file name.</source>
        <translation>请选择其他文件夹或文件名。</translation>
    </message>
    <message>
        <source>Install other machines the same way with: {command}</source>
        <translation>用以下命令以同样的方式安装其他计算机：{command}</translation>
    </message>
    <message>
        <source>Every setting is this machine&apos;s default, so the file is empty: each machine uses its own defaults.</source>
        <translation>所有设置都是这台计算机的默认值，因此文件为空：每台计算机都使用自己的默认值。</translation>
    </message>
    <message>
        <source>Not saved: your answers about what this machine already had ({keys}); add them to the file by hand if other machines should do the same.</source>
        <translation>未保存：你针对这台计算机上已有内容所作的回答（{keys}）；如果其他计算机也应这样处理，请手动把它们加入文件。</translation>
    </message>
    <message>
        <source>The old file is kept as {backup}.</source>
        <translation>旧文件已保留为 {backup}。</translation>
    </message>
    <message>
        <source>Saved the answer file {path}.</source>
        <translation>已保存应答文件 {path}。</translation>
    </message>
</context>
<context>
    <name>GpuCheckPage</name>
    <message>
        <source>Check the GPU</source>
        <translation>检查 GPU</translation>
    </message>
    <message>
        <source>A tiny language model trains for a few seconds in the new env. If its loss falls, PyTorch works there.</source>
        <translation>一个很小的语言模型会在新环境中训练几秒钟。如果损失值下降，说明 PyTorch 在其中工作正常。</translation>
    </message>
    <message>
        <source>Hardware:</source>
        <translation>硬件：</translation>
    </message>
    <message>
        <source>Trains on:</source>
        <translation>训练设备：</translation>
    </message>
    <message>
        <source>PyTorch:</source>
        <translation>PyTorch：</translation>
    </message>
    <message>
        <source>Speed:</source>
        <translation>速度：</translation>
    </message>
    <message>
        <source>Matmul:</source>
        <translation>矩阵乘法：</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <source>Cancel the GPU check</source>
        <translation>取消 GPU 检查</translation>
    </message>
    <message>
        <source>Run &amp;again</source>
        <translation>再次运行(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Save report…</source>
        <translation>保存报告(&amp;S)…</translation>
    </message>
    <message>
        <source>Cop&amp;y diagnostics</source>
        <translation>复制诊断信息(&amp;Y)</translation>
    </message>
    <message>
        <source>Sample from the trained model</source>
        <translation>训练后模型生成的示例</translation>
    </message>
    <message>
        <source>The trained model&apos;s sample appears here.</source>
        <translation>训练后模型生成的示例文本显示在这里。</translation>
    </message>
    <message>
        <source>GPU check log</source>
        <translation>GPU 检查日志</translation>
    </message>
    <message>
        <source>Starting Python and PyTorch in the env (a few seconds)…</source>
        <translation>正在环境中启动 Python 和 PyTorch（需要几秒钟）…</translation>
    </message>
    <message>
        <source>{v:.2f} TFLOP/s fp32</source>
        <translation>{v:.2f} TFLOP/s fp32</translation>
    </message>
    <message>
        <source>{v:.1f} TFLOP/s bf16</source>
        <translation>{v:.1f} TFLOP/s bf16</translation>
    </message>
    <message>
        <source>compute capability {cc}</source>
        <translation>计算能力 {cc}</translation>
    </message>
    <message>
        <source>{device} — {name} ({details})</source>
        <translation>{device} — {name}（{details}）</translation>
    </message>
    <message>
        <source>, </source>
        <translation>，</translation>
    </message>
    <message>
        <source>none</source>
        <comment>no CUDA in this torch build</comment>
        <translation>无</translation>
    </message>
    <message>
        <source>{torch} (CUDA {cuda}), Python {python}</source>
        <translation>{torch}（CUDA {cuda}），Python {python}</translation>
    </message>
    <message>
        <source>The GPU failed; training on the CPU instead…</source>
        <translation>GPU 出错；改用 CPU 训练…</translation>
    </message>
    <message>
        <source>Training…</source>
        <translation>正在训练…</translation>
    </message>
    <message>
        <source>{rate:.1f} steps/s</source>
        <translation>{rate:.1f} 步/秒</translation>
    </message>
    <message>
        <source>{rate:,.0f} tokens/s</source>
        <translation>{rate:,.0f} 词元/秒</translation>
    </message>
    <message>
        <source>loss {loss:.3f}</source>
        <translation>损失 {loss:.3f}</translation>
    </message>
    <message>
        <source>step {done} of {total}</source>
        <translation>第 {done} 步，共 {total} 步</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>剩余 {time}</translation>
    </message>
    <message>
        <source>{steps:.1f} steps/s · {tokens:,.0f} tokens/s</source>
        <translation>{steps:.1f} 步/秒 · {tokens:,.0f} 词元/秒</translation>
    </message>
    <message>
        <source>Fix:</source>
        <translation>解决办法：</translation>
    </message>
    <message>
        <source>Cancelled. Run again to check the GPU, or finish without it.</source>
        <translation>已取消。可再次运行以检查 GPU，或不检查直接完成。</translation>
    </message>
    <message>
        <source>Diagnostics copied to the clipboard.</source>
        <translation>诊断信息已复制到剪贴板。</translation>
    </message>
    <message>
        <source>Save the GPU check report</source>
        <translation>保存 GPU 检查报告</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>Could not save the report: {e}</source>
        <translation>无法保存报告：{e}</translation>
    </message>
    <message>
        <source>Saved {md} and {js}.</source>
        <translation>已保存 {md} 和 {js}。</translation>
    </message>
</context>
<context>
    <name>InstallPage</name>
    <message>
        <source>Install Miniconda</source>
        <translation>安装 Miniconda</translation>
    </message>
    <message>
        <source>Choose where Miniconda goes, then press Install. The official installer runs in batch mode; its output appears below.</source>
        <translation>选择 Miniconda 的安装位置，然后点击“安装”。官方安装程序以批处理模式运行，输出显示在下方。</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Update an existing Miniconda installation in this folder</source>
        <translation>更新此文件夹中已有的 Miniconda 安装</translation>
    </message>
    <message>
        <source>Just me (recommended)</source>
        <translation>仅限我自己（推荐）</translation>
    </message>
    <message>
        <source>All users (needs administrator rights)</source>
        <translation>所有用户（需要管理员权限）</translation>
    </message>
    <message>
        <source>Install location:</source>
        <translation>安装位置：</translation>
    </message>
    <message>
        <source>Install for:</source>
        <translation>安装给：</translation>
    </message>
    <message>
        <source>Restart as administrator</source>
        <translation>以管理员身份重新启动</translation>
    </message>
    <message>
        <source>&amp;Install</source>
        <translation>安装(&amp;I)</translation>
    </message>
    <message>
        <source>Install location</source>
        <translation>安装位置</translation>
    </message>
    <message>
        <source>Install for</source>
        <translation>安装给</translation>
    </message>
    <message>
        <source>Use the suggested location</source>
        <translation>使用建议的安装位置</translation>
    </message>
    <message>
        <source>Cancel install</source>
        <translation>取消安装</translation>
    </message>
    <message>
        <source>Cancel the installation</source>
        <translation>取消安装</translation>
    </message>
    <message>
        <source>Installer output</source>
        <translation>安装程序输出</translation>
    </message>
    <message>
        <source>Not started.</source>
        <translation>尚未开始。</translation>
    </message>
    <message>
        <source>Enter the folder to install Miniconda into.</source>
        <translation>请输入 Miniconda 的安装文件夹。</translation>
    </message>
    <message>
        <source>The folder {prefix} exists and is empty; Miniconda will be installed into it.</source>
        <translation>文件夹 {prefix} 已存在且为空；Miniconda 将安装到其中。</translation>
    </message>
    <message>
        <source>Miniconda will be installed in {prefix}.</source>
        <translation>Miniconda 将安装在 {prefix}。</translation>
    </message>
    <message>
        <source>Use {path}</source>
        <translation>使用 {path}</translation>
    </message>
    <message>
        <source>The wizard could not be started as administrator (the prompt was declined?).</source>
        <translation>无法以管理员身份启动向导（提权提示被拒绝了？）。</translation>
    </message>
    <message>
        <source>Choose the install location</source>
        <translation>选择安装位置</translation>
    </message>
    <message>
        <source>Running the installer…</source>
        <translation>正在运行安装程序…</translation>
    </message>
    <message>
        <source>Installed.</source>
        <translation>已安装。</translation>
    </message>
    <message>
        <source>conda {version} installed in {prefix}</source>
        <translation>conda {version} 已安装在 {prefix}</translation>
    </message>
    <message>
        <source>The installation failed.</source>
        <translation>安装失败。</translation>
    </message>
    <message>
        <source>Cancelled. Nothing was left behind in a new folder; press Install to start again.</source>
        <translation>已取消。新文件夹中没有留下任何内容；点击“安装”可重新开始。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
</context>
<context>
    <name>InstallerWizard</name>
    <message>
        <source>Miniconda Setup Wizard</source>
        <extracomment>The step titles of the side panel, as the wizard makes them (context InstallerWizard).
----------
Seconds after ``show()`` after which work waiting for the first paint starts anyway (a platform that paints late, or never while minimised).</extracomment>
        <translation>Miniconda 安装向导</translation>
    </message>
    <message>
        <source>Ab&amp;out</source>
        <translation>关于(&amp;O)</translation>
    </message>
    <message>
        <source>Choose package</source>
        <translation>选择安装程序</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Install</source>
        <translation>安装</translation>
    </message>
    <message>
        <source>PATH options</source>
        <translation>PATH 选项</translation>
    </message>
    <message>
        <source>Create the env</source>
        <translation>创建环境</translation>
    </message>
    <message>
        <source>GPU check</source>
        <translation>GPU 检查</translation>
    </message>
    <message>
        <source>Finish</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>Stop and quit?</source>
        <translation>停止并退出？</translation>
    </message>
    <message>
        <source>A step is still running. Stop it and quit the wizard?
A partial download is kept for next time; a half-made installation is removed.</source>
        <translation>仍有步骤在运行。要停止它并退出向导吗？
已下载的部分会保留供下次使用；未完成的安装会被删除。</translation>
    </message>
</context>
<context>
    <name>LossCurveWidget</name>
    <message>
        <source>Training loss curve</source>
        <translation>训练损失曲线</translation>
    </message>
    <message>
        <source>step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <source>The loss appears here as training runs.</source>
        <translation>训练进行时，损失值显示在这里。</translation>
    </message>
</context>
<context>
    <name>PackagePage</name>
    <message>
        <source>Choose the Miniconda installer</source>
        <translation>选择 Miniconda 安装程序</translation>
    </message>
    <message>
        <source>The wizard reads the list of installers from a mirror and picks the newest one that runs on this computer. You can pick another one, or use an installer you already have.</source>
        <translation>向导从镜像读取安装程序列表，并选择能在这台计算机上运行的最新版本。你也可以选择其他版本，或使用已有的安装程序。</translation>
    </message>
    <message>
        <source>Ask every mirror at once and use the fastest that has the installer</source>
        <translation>同时询问所有镜像，使用有该安装程序且最快的镜像</translation>
    </message>
    <message>
        <source>A mirror name, auto, or the URL of a folder that lists Miniconda installers.</source>
        <translation>镜像名称、auto，或列出 Miniconda 安装程序的文件夹 URL。</translation>
    </message>
    <message>
        <source>&amp;Reload list</source>
        <translation>重新加载列表(&amp;R)</translation>
    </message>
    <message>
        <source>Find the &amp;fastest</source>
        <translation>查找最快镜像(&amp;F)</translation>
    </message>
    <message>
        <source>Ask every mirror for the first 64 KiB of the installer at once and use the fastest that has it</source>
        <translation>同时向所有镜像请求安装程序的前 64 KiB，使用有该文件且最快的镜像</translation>
    </message>
    <message>
        <source>Mirror</source>
        <translation>镜像</translation>
    </message>
    <message>
        <source>Mirror probe results</source>
        <translation>镜像测速结果</translation>
    </message>
    <message>
        <source>Has the file</source>
        <translation>有此文件</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>响应</translation>
    </message>
    <message>
        <source>This computer:</source>
        <translation>这台计算机：</translation>
    </message>
    <message>
        <source>Distribution:</source>
        <translation>发行版：</translation>
    </message>
    <message>
        <source>Mirror:</source>
        <translation>镜像：</translation>
    </message>
    <message>
        <source>Proxy:</source>
        <translation>代理：</translation>
    </message>
    <message>
        <source>Installers</source>
        <translation>安装程序</translation>
    </message>
    <message>
        <source>Installer</source>
        <translation>安装程序</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>SHA-256</source>
        <translation>SHA-256</translation>
    </message>
    <message>
        <source>Use a &amp;local file…</source>
        <translation>使用本地文件(&amp;L)…</translation>
    </message>
    <message>
        <source>Use the &amp;list instead</source>
        <translation>改用列表(&amp;L)</translation>
    </message>
    <message>
        <source>Use this installer even though its SHA-256 cannot be checked</source>
        <translation>即使无法校验 SHA-256 也使用此安装程序</translation>
    </message>
    <message>
        <source>Why not the others?</source>
        <translation>为什么不显示其他的？</translation>
    </message>
    <message>
        <source>Every mirror is asked at once; the fastest that has the installer is used for everything the run downloads.</source>
        <translation>同时询问所有镜像；本次运行的所有下载都使用有该安装程序且最快的镜像。</translation>
    </message>
    <message>
        <source>This mirror choice applies to everything the run downloads:</source>
        <translation>此镜像选择适用于本次运行的所有下载：</translation>
    </message>
    <message>
        <source>A mirror URL gives only the installer; the rest of the run downloads from:</source>
        <translation>镜像 URL 只提供安装程序；本次运行的其他内容从以下位置下载：</translation>
    </message>
    <message>
        <source>Reading the list of installers from {url} …</source>
        <translation>正在从 {url} 读取安装程序列表…</translation>
    </message>
    <message>
        <source>published</source>
        <translation>已公布</translation>
    </message>
    <message>
        <source>pinned</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>not listed</source>
        <translation>未列出</translation>
    </message>
    <message>
        <source>Checking the installer and its SHA-256 …</source>
        <translation>正在检查安装程序及其 SHA-256…</translation>
    </message>
    <message>
        <source>Miniconda installers (*.sh *.pkg *.exe);;All files (*)</source>
        <translation>Miniconda 安装程序 (*.sh *.pkg *.exe);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Choose a Miniconda installer</source>
        <translation>选择 Miniconda 安装程序</translation>
    </message>
    <message>
        <source>Using {path}</source>
        <translation>使用 {path}</translation>
    </message>
    <message>
        <source>Asking every mirror for the first 64 KiB of {name} …</source>
        <translation>正在向所有镜像请求 {name} 的前 64 KiB…</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>file {size}</source>
        <translation>文件 {size}</translation>
    </message>
    <message>
        <source>No mirror answered with the installer.</source>
        <translation>没有镜像返回该安装程序。</translation>
    </message>
    <message>
        <source>Check the network connection (or the proxy), or choose a mirror by name.</source>
        <translation>请检查网络连接（或代理），或按名称选择镜像。</translation>
    </message>
    <message>
        <source>The mirror lists no Miniconda installer for {platform}.</source>
        <translation>该镜像没有列出适用于 {platform} 的 Miniconda 安装程序。</translation>
    </message>
    <message>
        <source>Choose another mirror, or use a local file.</source>
        <translation>请选择其他镜像，或使用本地文件。</translation>
    </message>
    <message>
        <source>size unknown</source>
        <translation>大小未知</translation>
    </message>
    <message>
        <source>given by you</source>
        <translation>由你提供</translation>
    </message>
    <message>
        <source>published by the mirror</source>
        <translation>由索引公布</translation>
    </message>
    <message>
        <source>from the wizard&apos;s pinned hash table</source>
        <translation>来自向导内置的哈希表</translation>
    </message>
    <message>
        <source>published by repo.anaconda.com</source>
        <translation>由 repo.anaconda.com 公布</translation>
    </message>
    <message>
        <source>from the .sha256 file beside it</source>
        <translation>来自旁边的 .sha256 文件</translation>
    </message>
    <message>
        <source>from the .sha256 file on GitHub Releases</source>
        <translation>来自 GitHub Releases 上的 .sha256 文件</translation>
    </message>
    <message>
        <source>{name} ({size}). Expected SHA-256 {source}:</source>
        <translation>{name}（{size}）。预期的 SHA-256（{source}）：</translation>
    </message>
    <message>
        <source>{name} ({size}). No SHA-256 is published for it, so the download cannot be verified.</source>
        <translation>{name}（{size}）。没有公布它的 SHA-256，因此无法校验下载。</translation>
    </message>
    <message>
        <source>Pick an installer whose SHA-256 is known, or tick the box below.</source>
        <translation>请选择一个已知 SHA-256 的安装程序，或勾选下面的复选框。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
</context>
<context>
    <name>PathPage</name>
    <message>
        <source>Make conda available in new terminals</source>
        <translation>让新终端中可以使用 conda</translation>
    </message>
    <message>
        <source>Both options are off by default, as in the official installer. Without them, use “Anaconda Prompt (miniconda3)” from the Start menu.</source>
        <translation>与官方安装程序一样，这两个选项默认关闭。不勾选时，请使用“开始”菜单中的“Anaconda Prompt (miniconda3)”。</translation>
    </message>
    <message>
        <source>Add Miniconda to my &amp;PATH environment variable</source>
        <translation>将 Miniconda 添加到我的 PATH 环境变量(&amp;P)</translation>
    </message>
    <message>
        <source>Not recommended by Anaconda: programs that come earlier or later on PATH can pick up the wrong Python or DLLs. Only your user PATH is changed, and the old value is saved.</source>
        <translation>Anaconda 不推荐这样做：PATH 中排在前面或后面的程序可能会用错 Python 或 DLL。只会更改你的用户 PATH，旧值会被保存。</translation>
    </message>
    <message>
        <source>&amp;Register Miniconda as my default Python</source>
        <translation>将 Miniconda 注册为我的默认 Python(&amp;R)</translation>
    </message>
    <message>
        <source>Editors such as VS Code and PyCharm, and the py launcher, will find this Python first. Leave it off if another Python is your default.</source>
        <translation>VS Code、PyCharm 等编辑器以及 py 启动器会优先找到这个 Python。如果你的默认 Python 是别的，请不要勾选。</translation>
    </message>
    <message>
        <source>Options</source>
        <translation>选项</translation>
    </message>
    <message>
        <source>Make “conda activate” work in</source>
        <translation>让“conda activate”可用于</translation>
    </message>
    <message>
        <source>&amp;PowerShell  (conda init powershell: adds a block to your profile)</source>
        <translation>&amp;PowerShell（conda init powershell：在你的配置文件中添加一段代码）</translation>
    </message>
    <message>
        <source>&amp;Command Prompt  (conda init cmd.exe: sets the AutoRun value, which runs in every cmd.exe)</source>
        <translation>命令提示符(&amp;C)（conda init cmd.exe：设置 AutoRun 值，每个 cmd.exe 都会运行它）</translation>
    </message>
    <message>
        <source>“conda init” adds a short block to a shell&apos;s start-up file so that “conda activate” works in every new terminal. The file is backed up first, and nothing else in it changes.</source>
        <translation>“conda init”会在 shell 的启动文件中添加一小段代码，使“conda activate”在每个新终端中可用。该文件会先备份，其中其他内容不会改变。</translation>
    </message>
    <message>
        <source>Run “conda init” for</source>
        <translation>为以下 shell 运行“conda init”</translation>
    </message>
    <message>
        <source>{shell}  (edits {file})</source>
        <translation>{shell}（修改 {file}）</translation>
    </message>
    <message>
        <source>Ticked because {reason}.</source>
        <translation>已勾选，因为{reason}。</translation>
    </message>
    <message>
        <source>With no shell ticked nothing is changed; you can run “{conda} init bash” later yourself.</source>
        <translation>不勾选任何 shell 则不做任何更改；你以后可以自己运行“{conda} init bash”。</translation>
    </message>
    <message>
        <source>✔ conda works in a new terminal</source>
        <translation>✔ conda 在新终端中可用</translation>
    </message>
    <message>
        <source>✘ conda does not work in a new terminal</source>
        <translation>✘ conda 在新终端中不可用</translation>
    </message>
    <message>
        <source>– {shell} is not installed: not checked</source>
        <translation>– 未安装 {shell}：未检查</translation>
    </message>
    <message>
        <source>– not set up</source>
        <translation>– 未设置</translation>
    </message>
    <message>
        <source>Last applied:</source>
        <translation>上次应用：</translation>
    </message>
</context>
<context>
    <name>ProgressPanelWidget</name>
    <message>
        <source>{done} of {total}</source>
        <translation>{done} / {total}</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>剩余 {time}</translation>
    </message>
</context>
<context>
    <name>ProxyStatusWidget</name>
    <message>
        <source>Use the suggested mirror</source>
        <translation>使用建议的镜像</translation>
    </message>
    <message>
        <source>{text}; it answers.</source>
        <translation>{text}；可以连通。</translation>
    </message>
    <message>
        <source>Use {title}</source>
        <translation>使用 {title}</translation>
    </message>
</context>
<context>
    <name>UninstallRunner</name>
    <message>
        <source>Uninstalling {prefix}…</source>
        <translation>正在卸载 {prefix}…</translation>
    </message>
    <message>
        <source>Uninstall</source>
        <translation>卸载</translation>
    </message>
    <message>
        <source>Uninstalled {prefix}: every change the wizard made for it is reversed. Open a new terminal to use the restored settings.</source>
        <translation>已卸载 {prefix}：向导为它做的所有更改均已还原。请打开一个新终端以使用恢复后的设置。</translation>
    </message>
</context>
</TS>
