#include "receipt_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "dialogs/calendar.hpp"
#include "dialogs/json_text.hpp"
#include "dialogs/money.hpp"
#include "dialogs/vocabulary.hpp"

#include <fcntl.h>
#include <leptonica/allheaders.h>
#include <poll.h>
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <tesseract/baseapi.h>
#include <unistd.h>

namespace cobrador::bot {

namespace {

constexpr std::int64_t kMaxPixels = 40'000'000;  // a 40-megapixel photo; more is a bomb
constexpr int kMaxPdfPages = 3;                  // a receipt is a page or two
constexpr std::size_t kMaxChildOutput = 1024 * 1024;

// A sanitizer's runtime reserves terabytes of address space for its shadow memory, so a build
// with ASan or TSan (the tests' builds, never a release) cannot limit the child's address space.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kLimitMemory = false;
#else
constexpr bool kLimitMemory = true;
#endif

// At most kMaxReceiptText bytes, never half a character, and no NUL (which a PDF's text may
// carry and a PostgreSQL text column refuses).
std::string Clip(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), '\0'), text.end());
    text.resize(dialogs::ClipUtf8(text, kMaxReceiptText).size());
    return text;
}

ReceiptText Failed(std::string why) {
    ReceiptText out;
    out.error = std::move(why);
    return out;
}

bool Blank(const std::string& text) {
    return std::all_of(
        text.begin(), text.end(), [](unsigned char c) { return std::isspace(c) != 0; });
}

void Quiet(const std::string&, void*) {}

// OCR of `pix` (taken: destroyed here), `width` pixels wide.
ReceiptText OcrPix(PIX* pix, l_int32 width, const std::string& engine, const char* nothing) {
    // Small screenshots read better larger.
    if (width < 1200) {
        PIX* larger = pixScale(pix, 2.0F, 2.0F);
        if (larger != nullptr) {
            pixDestroy(&pix);
            pix = larger;
        }
    }
    tesseract::TessBaseAPI api;
    if (api.Init(nullptr, "spa+eng") != 0) {
        pixDestroy(&pix);
        return Failed(
            "the OCR data is missing (Debian packages tesseract-ocr-spa, tesseract-ocr-eng)");
    }
    api.SetVariable("debug_file", "/dev/null");
    api.SetPageSegMode(tesseract::PSM_AUTO);
    api.SetImage(pix);
    api.SetSourceResolution(300);
    const std::unique_ptr<char[]> text(api.GetUTF8Text());
    api.End();
    pixDestroy(&pix);
    ReceiptText out;
    out.engine = engine;
    out.text = Clip(text ? std::string(text.get()) : std::string());
    out.ok = !Blank(out.text);
    if (!out.ok) {
        out.error = nothing;
    }
    return out;
}

ReceiptText Ocr(std::string_view bytes) {
    setMsgSeverity(L_SEVERITY_NONE);  // Leptonica's complaints about a bad file go nowhere
    const auto* data = reinterpret_cast<const l_uint8*>(bytes.data());
    l_int32 format = 0;
    l_int32 width = 0;
    l_int32 height = 0;
    l_int32 bits = 0;
    l_int32 samples = 0;
    if (pixReadHeaderMem(data, bytes.size(), &format, &width, &height, &bits, &samples, nullptr) !=
            0 ||
        width <= 0 || height <= 0) {
        return Failed("the image cannot be decoded");
    }
    if (std::int64_t{width} * height > kMaxPixels) {
        return Failed("the image is too large to read (" + std::to_string(width) + "x" +
                      std::to_string(height) + " pixels)");
    }
    PIX* pix = pixReadMem(data, bytes.size());
    if (pix == nullptr) {
        return Failed("the image cannot be decoded");
    }
    return OcrPix(pix, width, "ocr", "no text was found in the image");
}

// A scanned PDF (no text layer): its first page rendered in grey at up to 200 dpi, never more
// than kMaxPixels, then OCR.
ReceiptText OcrFirstPage(const poppler::document& document) {
    const std::unique_ptr<poppler::page> page(document.create_page(0));
    if (!page) {
        return Failed("the PDF has no page to read");
    }
    const poppler::rectf box = page->page_rect();  // in points, 72 to the inch
    if (!(box.width() > 0 && box.height() > 0)) {
        return Failed("the PDF's page has no size");
    }
    double dpi = 200.0;
    const double points = box.width() * box.height();
    const double most = static_cast<double>(kMaxPixels) * 72.0 * 72.0 / points;
    dpi = std::min(dpi, std::sqrt(most));
    if (dpi < 50.0) {
        return Failed("the PDF's page is too large to read");
    }
    poppler::page_renderer renderer;
    renderer.set_image_format(poppler::image::format_gray8);
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    const poppler::image image = renderer.render_page(page.get(), dpi, dpi);
    if (!image.is_valid() || image.width() <= 0 || image.height() <= 0 ||
        std::int64_t{image.width()} * image.height() > kMaxPixels) {
        return Failed("the PDF's page could not be rendered");
    }
    PIX* pix = pixCreate(image.width(), image.height(), 8);
    if (pix == nullptr) {
        return Failed("the PDF's page could not be rendered");
    }
    const char* rows = image.const_data();
    l_uint32* data = pixGetData(pix);
    const l_int32 words = pixGetWpl(pix);
    for (int y = 0; y < image.height(); ++y) {
        const auto* row = reinterpret_cast<const unsigned char*>(rows + y * image.bytes_per_row());
        l_uint32* line = data + static_cast<std::ptrdiff_t>(y) * words;
        for (int x = 0; x < image.width(); ++x) {
            SET_DATA_BYTE(line, x, row[x]);
        }
    }
    return OcrPix(pix, image.width(), "pdf_ocr", "no text was found in the scanned PDF");
}

ReceiptText PdfText(std::string_view bytes) {
    poppler::set_debug_error_function(Quiet, nullptr);
    if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
        return Failed("the PDF is too large");
    }
    const std::unique_ptr<poppler::document> document(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (!document) {
        return Failed("the PDF cannot be opened");
    }
    if (document->is_locked()) {
        return Failed("the PDF is protected with a password");
    }
    std::string text;
    const int pages = std::min(document->pages(), kMaxPdfPages);
    for (int i = 0; i < pages && text.size() <= kMaxReceiptText; ++i) {
        const std::unique_ptr<poppler::page> page(document->create_page(i));
        if (!page) {
            continue;
        }
        const poppler::byte_array utf8 =
            page->text(poppler::rectf(), poppler::page::physical_layout).to_utf8();
        text.append(utf8.begin(), utf8.end());
        text += '\n';
    }
    ReceiptText out;
    out.engine = "pdf_text";
    out.text = Clip(std::move(text));
    out.ok = !Blank(out.text);
    if (!out.ok && document->pages() > 0) {
        return OcrFirstPage(*document);  // a scan: no text layer
    }
    if (!out.ok) {
        out.error = "the PDF has no pages";
    }
    return out;
}

// Writes `input` to `to` and reads `from` until it ends, both at once, until `deadline`; false
// when the deadline passed first.
bool Exchange(int to,
              int from,
              std::string_view input,
              std::string& output,
              std::chrono::steady_clock::time_point deadline) {
    std::size_t written = 0;
    bool writing = true;
    if (input.empty()) {
        close(to);
        writing = false;
    }
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            if (writing) {
                close(to);
            }
            return false;
        }
        pollfd fds[2] = {{from, POLLIN, 0}, {writing ? to : -1, POLLOUT, 0}};
        const int ready =
            poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
        if (ready < 0 && errno != EINTR) {
            if (writing) {
                close(to);
            }
            return false;  // cannot watch the child: treated as out of time
        }
        if (writing && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            const ssize_t n = write(
                to, input.data() + written, std::min<std::size_t>(input.size() - written, 65536));
            if (n > 0) {
                written += static_cast<std::size_t>(n);
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                continue;  // full for now: the write end never blocks
            }
            if (n < 0 || written == input.size()) {
                close(to);  // EPIPE: the reader gave up early; its answer says why
                writing = false;
            }
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            char buffer[65536];
            const ssize_t n = read(from, buffer, sizeof buffer);
            if (n <= 0) {
                if (writing) {
                    close(to);
                }
                return true;
            }
            if (output.size() < kMaxChildOutput) {
                output.append(buffer, static_cast<std::size_t>(n));
            }
        }
    }
}

}  // namespace

ReceiptText ReadReceiptText(std::string_view bytes, std::string_view content_type) {
    if (content_type == "application/pdf") {
        return PdfText(bytes);
    }
    if (content_type.rfind("image/", 0) == 0) {
        return Ocr(bytes);
    }
    return Failed("only images and PDFs are read");
}

ReceiptText ReadIsolated(const std::string& binary,
                         std::string_view bytes,
                         std::string_view content_type,
                         std::chrono::seconds cpu,
                         std::chrono::seconds wall) {
    int input[2];
    int output[2];
    if (pipe2(input, O_CLOEXEC) != 0) {
        return Failed(std::string("cannot start the reader: ") + std::strerror(errno));
    }
    if (pipe2(output, O_CLOEXEC) != 0) {
        close(input[0]);
        close(input[1]);
        return Failed(std::string("cannot start the reader: ") + std::strerror(errno));
    }
    // Everything the child needs is made before fork: after it, only async-signal-safe calls.
    // Tesseract's OpenMP gets one thread: one receipt at a time is all a reader may take of
    // the machine, and OpenMP's spinning threads cost more than they give on two cores.
    std::vector<std::string> environment;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        if (std::strncmp(*entry, "OMP_THREAD_LIMIT=", 17) != 0) {
            environment.emplace_back(*entry);
        }
    }
    environment.emplace_back("OMP_THREAD_LIMIT=1");
    std::vector<char*> envp;
    for (std::string& entry : environment) {
        envp.push_back(entry.data());
    }
    envp.push_back(nullptr);
    const std::string type(content_type);
    const char* argv[] = {binary.c_str(), "read-receipt", "--type", type.c_str(), "-", nullptr};
    const rlimit cpu_limit{static_cast<rlim_t>(cpu.count()), static_cast<rlim_t>(cpu.count() + 1)};
    const rlimit memory{rlim_t{1} << 30, rlim_t{1} << 30};
    const rlimit no_core{0, 0};
    rlimit files{};
    getrlimit(RLIMIT_NOFILE, &files);
    const int max_fd = static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536));
    const pid_t pid = fork();
    if (pid < 0) {
        for (const int fd : {input[0], input[1], output[0], output[1]}) {
            close(fd);
        }
        return Failed(std::string("cannot start the reader: ") + std::strerror(errno));
    }
    if (pid == 0) {
        dup2(input[0], STDIN_FILENO);
        dup2(output[1], STDOUT_FILENO);
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDERR_FILENO);
        }
        // Nothing of the server's (its listening socket, connections, the ledger) goes with
        // the child, which parses a stranger's file.
        if (syscall(SYS_close_range, 3U, ~0U, 0U) != 0) {
            for (int fd = 3; fd < max_fd; ++fd) {
                close(fd);
            }
        }
        setrlimit(RLIMIT_CPU, &cpu_limit);
        if (kLimitMemory) {
            setrlimit(RLIMIT_AS, &memory);
        }
        setrlimit(RLIMIT_CORE, &no_core);
        execve(binary.c_str(), const_cast<char* const*>(argv), envp.data());
        _exit(127);
    }
    close(input[0]);
    close(output[1]);
    fcntl(input[1], F_SETFL, fcntl(input[1], F_GETFL) | O_NONBLOCK);
    std::string answer;
    const auto deadline = std::chrono::steady_clock::now() + wall;
    bool in_time = Exchange(input[1], output[0], bytes, answer, deadline);
    close(output[0]);
    // Its output ended: it should be gone, and gets until the deadline to be.
    int status = 0;
    pid_t waited = 0;
    while (in_time && (waited = waitpid(pid, &status, WNOHANG)) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) {
            in_time = false;
            break;
        }
        usleep(10000);
    }
    if (waited != pid) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (!in_time) {
        return Failed("reading took longer than " + std::to_string(wall.count()) + " s");
    }
    if (WIFSIGNALED(status)) {
        return Failed(WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL
                          ? "reading used more than " + std::to_string(cpu.count()) +
                                " s of CPU time"
                          : "the reader stopped on signal " + std::to_string(WTERMSIG(status)));
    }
    const auto json = dialogs::ParseJsonText(answer);
    if (json.is_discarded() || !json.is_object()) {
        return Failed(WIFEXITED(status) && WEXITSTATUS(status) == 127
                          ? "the reader could not be started"
                          : "the reader answered nothing (it may have run out of memory)");
    }
    const auto text = [&](const char* key) {
        const auto it = json.find(key);
        return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    ReceiptText out;
    out.ok = json.contains("ok") && json["ok"].is_boolean() && json["ok"].get<bool>();
    out.engine = text("engine");
    out.text = Clip(text("text"));
    out.error = text("error");
    if (!out.ok && out.error.empty()) {
        out.error = "the reader found no text";
    }
    return out;
}

nlohmann::json FieldsJson(const dialogs::ReceiptFields& f) {
    const auto text = [](const std::string& value) {
        return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
    };
    return {{"clave_rastreo", text(f.clave_rastreo)},
            {"amount",
             f.amount_cents ? nlohmann::json(dialogs::FormatDecimalCents(*f.amount_cents))
                            : nlohmann::json(nullptr)},
            {"date",
             f.date ? nlohmann::json(dialogs::FormatIsoDate(*f.date)) : nlohmann::json(nullptr)},
            {"sending_bank", text(f.sending_bank)},
            {"beneficiary_account", text(f.beneficiary_account)},
            {"reference", text(f.reference)},
            {"concept", text(f.payment_concept)},
            {"beneficiary_name", text(f.beneficiary_name)}};
}

nlohmann::json ReadingJson(const ReceiptText& reading, const dialogs::ReceiptFields& fields) {
    return {
        {"ok", reading.ok},
        {"engine", reading.engine},
        {"text", reading.text},
        {"error", reading.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(reading.error)},
        {"fields", FieldsJson(fields)}};
}

}  // namespace cobrador::bot
