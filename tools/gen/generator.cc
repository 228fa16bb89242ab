#include "tools/gen/generator.h"

#include <cstdio>
#include <cstdlib>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/csv.h"
#include "services/common/status.h"
#include "services/common/text.h"
#include "services/lifecycle/lifecycle.h"

namespace pstrack::gen {
namespace internal {

// An agency that receives dossiers, and what it carries out.
struct Slot {
  int agency = 0;    // in World::agencies
  int province = 0;  // in Index::provinces
  int menu = 0;      // in Index::menus
  bool department = false;
  // For the own slot of a province formed on 2025-07-01: the slot of the
  // same province its dossiers go to before that day (the province did not
  // exist yet; its units did), or -1.
  int stand_in = -1;
};

// Procedures an agency carries out, with cumulative popularity for sampling.
struct Menu {
  std::vector<int> procedures;  // in World::procedures
  std::vector<double> cum;
};

struct ProcedureInfo {
  int64_t fee_vnd = 0;      // the fee, when fee-bearing
  bool obligation = false;  // land: a financial obligation is assessed during processing
  double supplement = 1;    // relative chance of an incomplete dossier
};

struct ProvinceInfo {
  double online = 1;  // relative propensity to file online
  double late = 0.05;
  double digitised = 0.6;
};

struct Index {
  std::shared_ptr<const WorkingCalendar> calendar;
  // Receipt days: dossiers [day_start[k], day_start[k + 1]) are received on
  // days[k]; day_phase[k] shifts which agency the day's first dossiers go to.
  std::vector<Date> days;
  std::vector<int64_t> day_start;
  std::vector<int64_t> day_phase;
  // Dossier volume: slot a has the integer weight cum[a + 1] - cum[a].
  std::vector<Slot> slots;
  std::vector<int64_t> cum;
  int64_t total_weight = 0;
  std::vector<Menu> menus;
  std::vector<ProcedureInfo> procedures;  // parallel to World::procedures
  std::vector<ProvinceInfo> provinces;
};

}  // namespace internal

namespace {

using internal::Index;
using K = EventKind;

// ---------------------------------------------------------------------------
// Randomness of our own: std distributions differ between standard libraries.

uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    return Mix(state_);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Uniform() < p; }
  int64_t Below(int64_t n) { return n <= 1 ? 0 : static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
  // exp(N(0, sigma)), for unevenly sized agencies.
  double LogNormal(double sigma) {
    const double u1 = 1 - Uniform(), u2 = Uniform();
    return std::exp(sigma * std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[static_cast<size_t>(Below(static_cast<int64_t>(i)))]);
  }
  // Index into `weights` with probability proportional to the weight.
  template <typename W>
  size_t Pick(const W& weights) {
    double total = 0;
    for (const auto& w : weights) total += w.weight;
    double x = Uniform() * total;
    for (size_t i = 0; i < std::size(weights); ++i) {
      if ((x -= weights[i].weight) < 0) return i;
    }
    return std::size(weights) - 1;
  }

 private:
  uint64_t state_;
};

// ---------------------------------------------------------------------------
// The 34 provinces in force since 2025-07-01, as in
// data/agencies/vn_provinces.csv, with their commune-level units (3,321 in
// all) and rough population (millions) and urban share.

struct ProvinceSpec {
  const char* code;
  const char* name;
  const char* admin_code;
  bool merged;  // formed on 2025-07-01
  int communes;
  double population;
  double wards;  // share of communes that are wards (phường)
};

constexpr ProvinceSpec kProvinces[] = {
    {"P01", "Thành phố Hà Nội", "01", false, 126, 8.8, 0.40},
    {"P04", "Tỉnh Cao Bằng", "04", false, 56, 0.56, 0.07},
    {"P08", "Tỉnh Tuyên Quang", "08", true, 124, 1.87, 0.06},
    {"P11", "Tỉnh Điện Biên", "11", false, 45, 0.64, 0.07},
    {"P12", "Tỉnh Lai Châu", "12", false, 38, 0.48, 0.05},
    {"P14", "Tỉnh Sơn La", "14", false, 75, 1.30, 0.11},
    {"P15", "Tỉnh Lào Cai", "15", true, 99, 1.78, 0.10},
    {"P19", "Tỉnh Thái Nguyên", "19", true, 92, 1.80, 0.16},
    {"P20", "Tỉnh Lạng Sơn", "20", false, 65, 0.80, 0.06},
    {"P22", "Tỉnh Quảng Ninh", "22", false, 54, 1.38, 0.56},
    {"P24", "Tỉnh Bắc Ninh", "24", true, 99, 3.62, 0.33},
    {"P25", "Tỉnh Phú Thọ", "25", true, 148, 4.02, 0.10},
    {"P31", "Thành phố Hải Phòng", "31", true, 114, 4.66, 0.40},
    {"P33", "Tỉnh Hưng Yên", "33", true, 104, 3.57, 0.11},
    {"P37", "Tỉnh Ninh Bình", "37", true, 129, 4.41, 0.25},
    {"P38", "Tỉnh Thanh Hóa", "38", false, 166, 3.76, 0.11},
    {"P40", "Tỉnh Nghệ An", "40", false, 130, 3.47, 0.08},
    {"P42", "Tỉnh Hà Tĩnh", "42", false, 69, 1.32, 0.13},
    {"P44", "Tỉnh Quảng Trị", "44", true, 78, 1.87, 0.10},
    {"P46", "Thành phố Huế", "46", false, 40, 1.16, 0.53},
    {"P48", "Thành phố Đà Nẵng", "48", true, 94, 3.07, 0.24},
    {"P51", "Tỉnh Quảng Ngãi", "51", true, 96, 1.86, 0.09},
    {"P52", "Tỉnh Gia Lai", "52", true, 135, 3.58, 0.19},
    {"P56", "Tỉnh Khánh Hòa", "56", true, 65, 2.24, 0.25},
    {"P66", "Tỉnh Đắk Lắk", "66", true, 102, 3.35, 0.16},
    {"P68", "Tỉnh Lâm Đồng", "68", true, 124, 3.87, 0.16},
    {"P75", "Tỉnh Đồng Nai", "75", true, 95, 4.49, 0.24},
    {"P79", "Thành phố Hồ Chí Minh", "79", true, 168, 14.0, 0.67},
    {"P80", "Tỉnh Tây Ninh", "80", true, 96, 3.25, 0.14},
    {"P82", "Tỉnh Đồng Tháp", "82", true, 102, 4.37, 0.20},
    {"P86", "Tỉnh Vĩnh Long", "86", true, 124, 4.26, 0.15},
    {"P91", "Tỉnh An Giang", "91", true, 102, 4.95, 0.14},
    {"P92", "Thành phố Cần Thơ", "92", true, 103, 4.20, 0.31},
    {"P96", "Tỉnh Cà Mau", "96", true, 64, 2.61, 0.19},
};

// The 13 special zones (đặc khu), counted among their province's communes.
constexpr std::pair<const char*, const char*> kSpecialZones[] = {
    {"P22", "Vân Đồn"}, {"P22", "Cô Tô"},    {"P31", "Cát Hải"},   {"P31", "Bạch Long Vĩ"}, {"P44", "Cồn Cỏ"},
    {"P48", "Hoàng Sa"}, {"P51", "Lý Sơn"},   {"P56", "Trường Sa"}, {"P68", "Phú Quý"},      {"P79", "Côn Đảo"},
    {"P91", "Phú Quốc"}, {"P91", "Kiên Hải"}, {"P91", "Thổ Châu"},
};

// Provinces that kept a tourism department in 2025 (the culture department
// is then "Văn hóa và Thể thao").
constexpr const char* kTourismProvinces[] = {"P01", "P22", "P48", "P56", "P79"};

// Syllables of generated commune names.
constexpr const char* kSyllables[] = {
    "An",    "Bình",  "Hòa",   "Tân",   "Phú",   "Thạnh", "Long",  "Vĩnh",  "Đông",  "Tây",   "Nam",
    "Bắc",   "Trung", "Hưng",  "Thái",  "Quang", "Minh",  "Đức",   "Thuận", "Xuân",  "Hải",   "Sơn",
    "Thủy",  "Lạc",   "Hồng",  "Kim",   "Ngọc",  "Phước", "Thắng", "Tiến",  "Cẩm",   "Yên",   "Lâm",
    "Mỹ",    "Hiệp",  "Hợp",   "Nghĩa", "Thịnh", "Phong", "Định",  "Khánh", "Lộc",   "Hậu",   "Lợi",
    "Thành", "Châu",  "Giang", "Hà",    "Lương", "Mai",   "Nhân",  "Phúc",  "Quý",   "Tài",   "Thọ",
    "Trường", "Tường", "Văn",  "Việt",  "Vinh",  "Cường", "Điền",  "Hoàng", "Kiên",  "Linh",  "Ninh",
    "Thanh", "Trà",   "Tú",    "Dương", "Gia",   "Hùng",  "Liên",  "Phương", "Đồng", "Lập",   "Chánh",
};

// ---------------------------------------------------------------------------
// Departments (sở and province-level units) and what they carry out.

enum Sector {
  kNV, kTP, kTC, kCT, kNNMT, kDKDD, kXD, kVH, kKHCN, kGD, kYT, kTTR, kCA, kDTTG, kKCN, kNG, kDL,
  kDepartmentSectors,
  kCommune = kDepartmentSectors,
  kProvinceLevel,
};

struct DepartmentSpec {
  const char* code;
  const char* name;
  double presence;    // share of provinces that have it
  double dossiers;    // relative dossier volume
  double procedures;  // relative share of department-level procedures
  Sector fallback;    // who carries its procedures where it is absent
};

constexpr DepartmentSpec kDepartments[kDepartmentSectors] = {
    {"SNV", "Sở Nội vụ", 1, 6, 160, kNV},
    {"STP", "Sở Tư pháp", 1, 5, 110, kTP},
    {"STC", "Sở Tài chính", 1, 12, 150, kTC},
    {"SCT", "Sở Công Thương", 1, 5, 190, kCT},
    {"SNNMT", "Sở Nông nghiệp và Môi trường", 1, 8, 260, kNNMT},
    {"VPDKDD", "Văn phòng Đăng ký đất đai", 1, 22, 45, kDKDD},
    {"SXD", "Sở Xây dựng", 1, 9, 150, kXD},
    {"SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", 1, 2, 130, kVH},
    {"SKHCN", "Sở Khoa học và Công nghệ", 1, 2, 100, kKHCN},
    {"SGDDT", "Sở Giáo dục và Đào tạo", 1, 4, 110, kGD},
    {"SYT", "Sở Y tế", 1, 7, 170, kYT},
    {"TTR", "Thanh tra", 1, 0.5, 12, kTTR},
    {"CAT", "Công an", 1, 15, 70, kCA},
    {"SDTTG", "Sở Dân tộc và Tôn giáo", 0.75, 0.5, 25, kNV},
    {"BQLKCN", "Ban Quản lý các khu công nghiệp", 0.85, 2, 45, kTC},
    {"SNG", "Sở Ngoại vụ", 0.35, 0.3, 12, kNV},
    {"SDL", "Sở Du lịch", 0, 0.5, 25, kVH},
};

// Fields (lĩnh vực) and procedure name material. Items are licences and the
// like that take a verb ("giấy phép X" -> "Cấp giấy phép X"), or, after '=',
// whole names.
struct FieldSpec {
  Sector sector;
  const char* field;
  const char* items;
};

constexpr FieldSpec kFields[] = {
    {kNV, "Việc làm", "giấy phép hoạt động dịch vụ việc làm|giấy phép lao động cho người lao động nước ngoài"},
    {kNV, "Lao động - Tiền lương", "=Đăng ký nội quy lao động|=Gửi thỏa ước lao động tập thể|=Đăng ký hợp đồng nhận lao động thực tập"},
    {kNV, "An toàn, vệ sinh lao động", "giấy chứng nhận đủ điều kiện hoạt động huấn luyện an toàn, vệ sinh lao động"},
    {kNV, "Bảo trợ xã hội", "giấy phép hoạt động của cơ sở trợ giúp xã hội|=Tiếp nhận đối tượng vào cơ sở trợ giúp xã hội cấp tỉnh"},
    {kNV, "Người có công", "giấy chứng nhận thân nhân liệt sĩ|=Giải quyết chế độ ưu đãi đối với người hoạt động kháng chiến|=Di chuyển hồ sơ người có công với cách mạng"},
    {kNV, "Công chức, viên chức", "=Thi tuyển công chức|=Xét chuyển cán bộ, công chức cấp xã thành công chức cấp tỉnh|=Thăng hạng chức danh nghề nghiệp viên chức"},
    {kNV, "Tổ chức phi chính phủ", "=Thành lập hội|=Phê duyệt điều lệ hội|=Giải thể hội|giấy phép thành lập và công nhận điều lệ quỹ"},
    {kNV, "Thi đua, khen thưởng", "=Tặng danh hiệu Chiến sĩ thi đua cấp tỉnh|=Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh|=Tặng danh hiệu Tập thể lao động xuất sắc"},
    {kNV, "Văn thư và lưu trữ", "chứng chỉ hành nghề lưu trữ|=Phục vụ sử dụng tài liệu của độc giả tại phòng đọc"},
    {kTP, "Công chứng", "thẻ công chứng viên|=Thành lập văn phòng công chứng|=Đăng ký hoạt động văn phòng công chứng|=Chuyển nhượng văn phòng công chứng"},
    {kTP, "Luật sư", "giấy đăng ký hoạt động của tổ chức hành nghề luật sư|giấy đăng ký hoạt động của chi nhánh tổ chức hành nghề luật sư"},
    {kTP, "Trợ giúp pháp lý", "=Yêu cầu trợ giúp pháp lý|thẻ cộng tác viên trợ giúp pháp lý"},
    {kTP, "Đấu giá tài sản", "thẻ đấu giá viên|giấy đăng ký hoạt động doanh nghiệp đấu giá tài sản"},
    {kTP, "Giám định tư pháp", "=Bổ nhiệm giám định viên tư pháp|giấy phép thành lập văn phòng giám định tư pháp"},
    {kTP, "Hộ tịch", "=Ghi vào Sổ hộ tịch việc hộ tịch của công dân Việt Nam đã được giải quyết tại cơ quan có thẩm quyền của nước ngoài"},
    {kTP, "Quốc tịch", "giấy xác nhận có quốc tịch Việt Nam|giấy xác nhận là người gốc Việt Nam|=Nhập quốc tịch Việt Nam|=Thôi quốc tịch Việt Nam"},
    {kTP, "Hòa giải thương mại", "=Đăng ký hòa giải viên thương mại vụ việc|giấy phép thành lập trung tâm hòa giải thương mại"},
    {kTC, "Thành lập và hoạt động của doanh nghiệp", "=Đăng ký thành lập doanh nghiệp tư nhân|=Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên|=Đăng ký thành lập công ty cổ phần|=Đăng ký thay đổi nội dung đăng ký doanh nghiệp|=Đăng ký hoạt động chi nhánh, văn phòng đại diện|=Thông báo tạm ngừng kinh doanh|=Giải thể doanh nghiệp"},
    {kTC, "Đầu tư tại Việt Nam", "=Chấp thuận chủ trương đầu tư|giấy chứng nhận đăng ký đầu tư|=Điều chỉnh dự án đầu tư|=Chấm dứt hoạt động dự án đầu tư"},
    {kTC, "Thành lập và hoạt động của hợp tác xã", "=Đăng ký thành lập hợp tác xã|=Đăng ký thay đổi nội dung đăng ký hợp tác xã|=Giải thể tự nguyện hợp tác xã"},
    {kTC, "Quản lý công sản", "=Phê duyệt phương án sắp xếp lại, xử lý nhà, đất|=Thanh lý tài sản công|=Bán tài sản công"},
    {kTC, "Tin học - Thống kê", "=Đăng ký mã số đơn vị có quan hệ với ngân sách"},
    {kTC, "Quản lý giá", "=Kê khai giá|=Đăng ký giá"},
    {kCT, "Lưu thông hàng hóa trong nước", "giấy phép bán buôn rượu|giấy phép bán buôn sản phẩm thuốc lá|giấy chứng nhận đủ điều kiện cửa hàng bán lẻ xăng dầu|giấy xác nhận đủ điều kiện làm thương nhân phân phối xăng dầu"},
    {kCT, "Điện", "giấy phép hoạt động điện lực|thẻ an toàn điện"},
    {kCT, "Hóa chất", "giấy chứng nhận đủ điều kiện sản xuất hóa chất|giấy chứng nhận đủ điều kiện kinh doanh hóa chất"},
    {kCT, "An toàn thực phẩm", "giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm|giấy xác nhận kiến thức an toàn thực phẩm"},
    {kCT, "Kinh doanh khí", "giấy chứng nhận đủ điều kiện cửa hàng bán lẻ LPG chai|giấy chứng nhận đủ điều kiện trạm nạp LPG vào chai"},
    {kCT, "Xúc tiến thương mại", "=Đăng ký thực hiện khuyến mại|=Đăng ký tổ chức hội chợ, triển lãm thương mại"},
    {kCT, "Thương mại quốc tế", "giấy phép thành lập văn phòng đại diện của thương nhân nước ngoài|giấy phép kinh doanh cho tổ chức kinh tế có vốn đầu tư nước ngoài"},
    {kCT, "Quản lý cạnh tranh", "=Đăng ký hoạt động bán hàng đa cấp tại địa phương"},
    {kCT, "Vật liệu nổ công nghiệp", "giấy phép sử dụng vật liệu nổ công nghiệp"},
    {kNNMT, "Môi trường", "giấy phép môi trường|=Thẩm định báo cáo đánh giá tác động môi trường|=Vận hành thử nghiệm công trình xử lý chất thải"},
    {kNNMT, "Tài nguyên nước", "giấy phép khai thác nước mặt|giấy phép khai thác nước dưới đất|giấy phép xả nước thải vào nguồn nước|giấy phép hành nghề khoan nước dưới đất"},
    {kNNMT, "Khoáng sản", "giấy phép thăm dò khoáng sản|giấy phép khai thác khoáng sản|=Đóng cửa mỏ khoáng sản"},
    {kNNMT, "Trồng trọt", "giấy chứng nhận đủ điều kiện buôn bán phân bón|=Công nhận cây đầu dòng, vườn cây đầu dòng"},
    {kNNMT, "Chăn nuôi", "giấy chứng nhận đủ điều kiện chăn nuôi trang trại quy mô lớn|giấy chứng nhận đủ điều kiện sản xuất thức ăn chăn nuôi"},
    {kNNMT, "Thú y", "giấy chứng nhận kiểm dịch động vật|chứng chỉ hành nghề thú y|giấy chứng nhận cơ sở an toàn dịch bệnh động vật"},
    {kNNMT, "Thủy sản", "giấy phép khai thác thủy sản|giấy chứng nhận an toàn thực phẩm tàu cá|=Đăng ký tàu cá"},
    {kNNMT, "Lâm nghiệp", "=Phê duyệt phương án quản lý rừng bền vững|=Chuyển loại rừng|=Chuyển mục đích sử dụng rừng sang mục đích khác"},
    {kNNMT, "Thủy lợi", "giấy phép hoạt động trong phạm vi bảo vệ công trình thủy lợi"},
    {kNNMT, "Đo đạc, bản đồ", "giấy phép hoạt động đo đạc và bản đồ|chứng chỉ hành nghề đo đạc và bản đồ hạng II"},
    {kNNMT, "Đất đai", "=Giao đất, cho thuê đất cho tổ chức|=Chuyển mục đích sử dụng đất đối với tổ chức|=Gia hạn sử dụng đất|=Điều chỉnh quyết định thu hồi đất, giao đất, cho thuê đất"},
    {kDKDD, "Đất đai", "=Đăng ký biến động quyền sử dụng đất do chuyển nhượng, tặng cho, thừa kế|=Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất lần đầu cho tổ chức|=Cấp đổi Giấy chứng nhận quyền sử dụng đất|=Đính chính Giấy chứng nhận đã cấp|=Tách thửa hoặc hợp thửa đất|=Cung cấp thông tin, dữ liệu đất đai|=Đăng ký biến động do đổi tên, thay đổi thông tin người sử dụng đất"},
    {kDKDD, "Đăng ký biện pháp bảo đảm", "=Đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất|=Xóa đăng ký thế chấp quyền sử dụng đất, tài sản gắn liền với đất|=Đăng ký thay đổi nội dung biện pháp bảo đảm"},
    {kXD, "Xây dựng", "giấy phép xây dựng công trình cấp I, cấp II|chứng chỉ hành nghề hoạt động xây dựng|chứng chỉ năng lực hoạt động xây dựng|=Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng|=Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở"},
    {kXD, "Nhà ở", "chứng chỉ hành nghề môi giới bất động sản|=Công nhận chủ đầu tư dự án nhà ở|=Mua, thuê mua nhà ở xã hội|=Bán nhà ở cũ thuộc tài sản công"},
    {kXD, "Quy hoạch xây dựng", "giấy phép quy hoạch|=Cung cấp thông tin quy hoạch xây dựng"},
    {kXD, "Đường bộ", "giấy phép kinh doanh vận tải bằng xe ô tô|phù hiệu xe ô tô kinh doanh vận tải|giấy phép lưu hành xe quá tải trọng, xe quá khổ giới hạn|giấy phép thi công công trình trên đường bộ đang khai thác|giấy phép đào tạo lái xe ô tô"},
    {kXD, "Đường thủy nội địa", "giấy phép hoạt động bến thủy nội địa|=Đăng ký phương tiện thủy nội địa|chứng chỉ chuyên môn thuyền viên"},
    {kXD, "Hạ tầng kỹ thuật", "giấy phép chặt hạ, dịch chuyển cây xanh|=Thỏa thuận đấu nối hạ tầng kỹ thuật"},
    {kVH, "Văn hóa cơ sở", "=Đăng ký tổ chức lễ hội|=Thông báo tổ chức biểu diễn nghệ thuật|giấy phép kinh doanh dịch vụ vũ trường"},
    {kVH, "Di sản văn hóa", "giấy phép khai quật khảo cổ|chứng chỉ hành nghề tu bổ di tích|giấy phép thành lập bảo tàng ngoài công lập"},
    {kVH, "Thể dục thể thao", "giấy chứng nhận đủ điều kiện kinh doanh hoạt động thể thao|=Đăng cai tổ chức giải thi đấu thể thao"},
    {kVH, "Mỹ thuật, Nhiếp ảnh và Triển lãm", "giấy phép triển lãm tác phẩm nhiếp ảnh|giấy phép xây dựng tượng đài, tranh hoành tráng"},
    {kVH, "Gia đình", "giấy chứng nhận đăng ký hoạt động cơ sở trợ giúp nạn nhân bạo lực gia đình"},
    {kVH, "Quảng cáo", "=Thông báo sản phẩm quảng cáo trên bảng quảng cáo, băng-rôn|giấy phép thành lập văn phòng đại diện doanh nghiệp quảng cáo nước ngoài"},
    {kVH, "Báo chí", "giấy phép xuất bản bản tin|=Thông báo tổ chức họp báo"},
    {kVH, "Xuất bản, In và Phát hành", "giấy phép hoạt động in|giấy phép xuất bản tài liệu không kinh doanh|=Đăng ký hoạt động phát hành xuất bản phẩm"},
    {kDL, "Du lịch", "giấy phép kinh doanh dịch vụ lữ hành nội địa|thẻ hướng dẫn viên du lịch|=Công nhận hạng cơ sở lưu trú du lịch|=Công nhận điểm du lịch|=Công nhận cơ sở kinh doanh dịch vụ du lịch đạt chuẩn"},
    {kKHCN, "Hoạt động khoa học và công nghệ", "giấy chứng nhận đăng ký hoạt động khoa học và công nghệ|giấy chứng nhận doanh nghiệp khoa học và công nghệ|=Đăng ký chuyển giao công nghệ"},
    {kKHCN, "Tiêu chuẩn, Đo lường, Chất lượng", "=Đăng ký công bố hợp chuẩn, hợp quy|chứng chỉ kiểm định viên đo lường|=Chỉ định tổ chức đánh giá sự phù hợp"},
    {kKHCN, "An toàn bức xạ và hạt nhân", "giấy phép tiến hành công việc bức xạ|chứng chỉ nhân viên bức xạ"},
    {kKHCN, "Sở hữu trí tuệ", "giấy chứng nhận tổ chức đủ điều kiện hoạt động giám định sở hữu công nghiệp"},
    {kKHCN, "Viễn thông và Internet", "giấy phép thiết lập mạng viễn thông dùng riêng|giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng"},
    {kKHCN, "Bưu chính", "giấy phép bưu chính|=Xác nhận thông báo hoạt động bưu chính"},
    {kGD, "Giáo dục và Đào tạo", "=Thành lập trường trung học phổ thông|=Cho phép trường trung học phổ thông hoạt động giáo dục|=Sáp nhập, chia, tách trường trung học phổ thông|=Thành lập trung tâm ngoại ngữ, tin học|=Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục"},
    {kGD, "Văn bằng, chứng chỉ", "=Cấp bản sao văn bằng, chứng chỉ từ sổ gốc|=Chỉnh sửa nội dung văn bằng, chứng chỉ|=Công nhận văn bằng tốt nghiệp do cơ sở giáo dục nước ngoài cấp"},
    {kGD, "Giáo dục nghề nghiệp", "giấy chứng nhận đăng ký hoạt động giáo dục nghề nghiệp|=Thành lập trung tâm giáo dục nghề nghiệp tư thục"},
    {kGD, "Thi, tuyển sinh", "=Phúc khảo bài thi tốt nghiệp trung học phổ thông|=Đăng ký dự thi tốt nghiệp trung học phổ thông|=Chuyển trường đối với học sinh trung học phổ thông"},
    {kYT, "Khám bệnh, chữa bệnh", "giấy phép hành nghề khám bệnh, chữa bệnh|giấy phép hoạt động đối với phòng khám đa khoa|giấy phép hoạt động đối với phòng khám chuyên khoa|giấy phép hoạt động đối với cơ sở dịch vụ y tế|=Xác nhận nội dung quảng cáo dịch vụ khám bệnh, chữa bệnh"},
    {kYT, "Dược phẩm", "chứng chỉ hành nghề dược|giấy chứng nhận đủ điều kiện kinh doanh dược|=Xác nhận nội dung thông tin thuốc|=Đánh giá đáp ứng thực hành tốt cơ sở bán lẻ thuốc"},
    {kYT, "An toàn thực phẩm và Dinh dưỡng", "giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm|=Đăng ký bản công bố sản phẩm|=Xác nhận nội dung quảng cáo thực phẩm"},
    {kYT, "Y tế dự phòng", "=Công bố cơ sở xét nghiệm đạt tiêu chuẩn an toàn sinh học cấp I, cấp II|=Công bố cơ sở đủ điều kiện thực hiện tiêm chủng"},
    {kYT, "Trang thiết bị y tế", "=Công bố đủ điều kiện mua bán trang thiết bị y tế|=Công bố tiêu chuẩn áp dụng đối với trang thiết bị y tế loại A, B"},
    {kYT, "Mỹ phẩm", "=Công bố sản phẩm mỹ phẩm sản xuất trong nước|giấy chứng nhận đủ điều kiện sản xuất mỹ phẩm"},
    {kYT, "Giám định y khoa", "=Khám giám định lần đầu|=Khám giám định phúc quyết|=Khám giám định tái phát"},
    {kTTR, "Giải quyết khiếu nại", "=Giải quyết khiếu nại lần đầu|=Giải quyết khiếu nại lần hai"},
    {kTTR, "Giải quyết tố cáo", "=Giải quyết tố cáo|=Tiếp nhận, xử lý thông tin tố cáo"},
    {kTTR, "Tiếp công dân", "=Tiếp công dân|=Xử lý đơn"},
    {kCA, "Đường bộ", "=Đổi giấy phép lái xe|=Cấp lại giấy phép lái xe|=Cấp giấy phép lái xe quốc tế|=Sát hạch, cấp giấy phép lái xe"},
    {kCA, "Lý lịch tư pháp", "=Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam|=Cấp Phiếu lý lịch tư pháp cho cơ quan, tổ chức"},
    {kCA, "Đăng ký, quản lý phương tiện giao thông", "=Đăng ký xe lần đầu|=Đăng ký sang tên xe|=Thu hồi giấy chứng nhận đăng ký, biển số xe|=Cấp đổi, cấp lại chứng nhận đăng ký xe"},
    {kCA, "Quản lý xuất nhập cảnh", "=Cấp hộ chiếu phổ thông ở trong nước|=Cấp thẻ tạm trú cho người nước ngoài|=Gia hạn tạm trú cho người nước ngoài"},
    {kCA, "Phòng cháy, chữa cháy", "=Thẩm định thiết kế về phòng cháy và chữa cháy|=Nghiệm thu về phòng cháy và chữa cháy|=Cấp chứng nhận huấn luyện nghiệp vụ phòng cháy, chữa cháy"},
    {kCA, "Quản lý ngành nghề kinh doanh có điều kiện về an ninh, trật tự", "giấy chứng nhận đủ điều kiện về an ninh, trật tự"},
    {kCA, "Cấp, quản lý căn cước", "=Cấp thẻ căn cước cho người từ đủ 14 tuổi trở lên|=Cấp đổi thẻ căn cước|=Cấp lại thẻ căn cước|=Cấp giấy chứng nhận căn cước"},
    {kDTTG, "Tín ngưỡng, tôn giáo", "=Đăng ký hoạt động tín ngưỡng|=Đăng ký sinh hoạt tôn giáo tập trung|=Thông báo tổ chức quyên góp|=Đề nghị tổ chức cuộc lễ ngoài cơ sở tôn giáo"},
    {kDTTG, "Công tác dân tộc", "=Công nhận người có uy tín trong đồng bào dân tộc thiểu số|=Đưa ra khỏi danh sách người có uy tín"},
    {kKCN, "Đầu tư tại Việt Nam", "giấy chứng nhận đăng ký đầu tư trong khu công nghiệp|=Chấp thuận chủ trương đầu tư dự án trong khu kinh tế"},
    {kKCN, "Việc làm", "giấy phép lao động cho người lao động nước ngoài làm việc trong khu công nghiệp"},
    {kKCN, "Xây dựng", "giấy phép xây dựng công trình trong khu công nghiệp"},
    {kKCN, "Thương mại quốc tế", "giấy chứng nhận xuất xứ hàng hóa ưu đãi"},
    {kNG, "Ngoại vụ", "=Cho phép tổ chức hội nghị, hội thảo quốc tế|=Cho phép sử dụng thẻ đi lại của doanh nhân APEC|=Đăng ký hoạt động của tổ chức phi chính phủ nước ngoài"},
    {kProvinceLevel, "Tổ chức hành chính, đơn vị sự nghiệp công lập", "=Thành lập, tổ chức lại, giải thể đơn vị sự nghiệp công lập|=Phê duyệt đề án vị trí việc làm|=Thẩm định đề án thành lập, tổ chức lại tổ chức hành chính|=Phân loại đơn vị sự nghiệp công lập"},
    {kProvinceLevel, "Đất đai", "=Quyết định giao đất, cho thuê đất đối với dự án có sử dụng đất lúa|=Quyết định thu hồi đất vì mục đích quốc phòng, an ninh|=Phê duyệt phương án bồi thường, hỗ trợ, tái định cư|=Quyết định giá đất cụ thể"},
    {kProvinceLevel, "Đầu tư tại Việt Nam", "=Chấp thuận chủ trương đầu tư của Ủy ban nhân dân cấp tỉnh|=Chấp thuận nhà đầu tư|=Điều chỉnh chủ trương đầu tư|=Gia hạn thời hạn hoạt động của dự án đầu tư"},
    {kProvinceLevel, "Thi đua, khen thưởng", "=Tặng Cờ thi đua của Ủy ban nhân dân cấp tỉnh|=Tặng danh hiệu Tập thể lao động xuất sắc|=Tặng Bằng khen của Chủ tịch Ủy ban nhân dân cấp tỉnh cho gia đình"},
    {kProvinceLevel, "Quy hoạch xây dựng", "=Phê duyệt quy hoạch chi tiết xây dựng|=Điều chỉnh cục bộ quy hoạch phân khu"},
    {kProvinceLevel, "Địa giới hành chính", "=Đặt tên, đổi tên đường, phố và công trình công cộng"},
    {kProvinceLevel, "Khoáng sản", "=Đấu giá quyền khai thác khoáng sản|=Phê duyệt tiền cấp quyền khai thác khoáng sản"},
    {kProvinceLevel, "Tài nguyên nước", "=Phê duyệt tiền cấp quyền khai thác tài nguyên nước"},
    {kCommune, "Hộ tịch", "=Đăng ký nhận cha, mẹ, con|=Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch|=Đăng ký giám hộ|=Đăng ký chấm dứt giám hộ|=Đăng ký khai sinh cho người đã có hồ sơ, giấy tờ cá nhân|=Liên thông đăng ký khai sinh, đăng ký thường trú, cấp thẻ bảo hiểm y tế cho trẻ em dưới 6 tuổi|=Liên thông đăng ký khai tử, xóa đăng ký thường trú, hưởng chế độ tử tuất"},
    {kCommune, "Chứng thực", "=Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản, quyền sử dụng đất và nhà ở|=Chứng thực di chúc|=Chứng thực văn bản thỏa thuận phân chia di sản|=Chứng thực việc sửa đổi, bổ sung, hủy bỏ hợp đồng, giao dịch"},
    {kCommune, "Đất đai", "=Đăng ký biến động đất đai do chuyển nhượng, tặng cho, thừa kế|=Hòa giải tranh chấp đất đai|=Chuyển mục đích sử dụng đất đối với hộ gia đình, cá nhân|=Giao đất, cho thuê đất đối với hộ gia đình, cá nhân|=Cấp đổi Giấy chứng nhận quyền sử dụng đất|=Tách thửa, hợp thửa đất"},
    {kCommune, "Xây dựng", "=Cấp giấy phép sửa chữa, cải tạo nhà ở riêng lẻ|=Cấp giấy phép di dời công trình"},
    {kCommune, "Bảo trợ xã hội", "=Trợ giúp xã hội khẩn cấp về hỗ trợ làm nhà ở|=Hỗ trợ chi phí mai táng cho đối tượng bảo trợ xã hội|=Đăng ký hoạt động đối với cơ sở trợ giúp xã hội dưới 10 đối tượng"},
    {kCommune, "Người có công", "=Giải quyết chế độ trợ cấp thờ cúng liệt sĩ|=Hưởng lại chế độ ưu đãi|=Giải quyết chế độ mai táng phí đối với cựu chiến binh"},
    {kCommune, "Trẻ em", "=Áp dụng các biện pháp can thiệp khẩn cấp hoặc tạm thời cách ly trẻ em|=Đăng ký nhận chăm sóc thay thế cho trẻ em"},
    {kCommune, "Giáo dục và Đào tạo", "=Thành lập trường tiểu học công lập|=Cho phép trường trung học cơ sở hoạt động giáo dục|=Chuyển trường đối với học sinh trung học cơ sở|=Xét, duyệt chính sách hỗ trợ đối với học sinh bán trú|=Thành lập nhóm trẻ, lớp mẫu giáo độc lập"},
    {kCommune, "Thành lập và hoạt động của hộ kinh doanh", "=Đăng ký thành lập hộ kinh doanh|=Đăng ký tạm ngừng kinh doanh của hộ kinh doanh"},
    {kCommune, "Lưu thông hàng hóa trong nước", "giấy phép bán lẻ rượu|giấy phép bán lẻ sản phẩm thuốc lá"},
    {kCommune, "An toàn thực phẩm", "giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đối với cơ sở kinh doanh dịch vụ ăn uống"},
    {kCommune, "Văn hóa cơ sở", "=Công nhận danh hiệu Gia đình văn hóa|=Thông báo tổ chức lễ hội|giấy phép kinh doanh dịch vụ karaoke"},
    {kCommune, "Nông nghiệp", "=Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai|=Xác nhận nguồn gốc gỗ|=Phê duyệt kế hoạch khuyến nông địa phương"},
    {kCommune, "Môi trường", "=Đăng ký môi trường|=Tham vấn báo cáo đánh giá tác động môi trường"},
    {kCommune, "Giảm nghèo", "=Công nhận hộ thoát nghèo, hộ thoát cận nghèo trong năm|=Xác định hộ làm nông nghiệp, lâm nghiệp, ngư nghiệp có mức sống trung bình"},
    {kCommune, "Phổ biến giáo dục pháp luật", "=Thôi làm hòa giải viên|=Thanh toán thù lao cho hòa giải viên"},
    {kCommune, "Thi đua, khen thưởng", "=Tặng Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã|=Xét tặng danh hiệu Lao động tiên tiến"},
    {kCommune, "Tín ngưỡng, tôn giáo", "=Đăng ký hoạt động tín ngưỡng|=Thông báo danh mục hoạt động tôn giáo"},
    {kCommune, "Đăng ký, quản lý cư trú", "=Tách hộ|=Khai báo tạm vắng|=Điều chỉnh thông tin về cư trú trong Cơ sở dữ liệu về cư trú|=Thông báo lưu trú|=Xác nhận thông tin về cư trú"},
};

// What is done with a licence, certificate or card.
constexpr const char* kVerbs[] = {"Cấp", "Cấp lại", "Cấp đổi", "Điều chỉnh", "Gia hạn", "Thu hồi"};
// Appended to names already used, as the national database distinguishes
// variants of one procedure.
constexpr const char* kVariants[] = {" đối với tổ chức", " đối với cá nhân", " có yếu tố nước ngoài",
                                     " (trường hợp bị mất, hư hỏng)", " (trường hợp thay đổi thông tin)",
                                     " theo thủ tục rút gọn", " trên môi trường điện tử", " (cấp tỉnh)"};

// The commune procedures of data/sample/procedures.csv that have no validity
// dates, as they are there (so that loading both changes nothing), with the
// relative dossier volume that makes them the bulk of communes' work.
struct KnownProcedure {
  const char* code;
  const char* name;
  const char* field;
  OnlineMode mode;
  bool eligible;
  uint32_t time;
  TimeUnit unit;
  bool fee, online_payment, population_db;
  double dossiers;
};

constexpr OnlineMode kFull = OnlineMode::kFull, kPartial = OnlineMode::kPartial, kNone = OnlineMode::kNone;
constexpr TimeUnit kDays = TimeUnit::kWorkingDays, kHours = TimeUnit::kWorkingHours;

constexpr KnownProcedure kKnownCommuneProcedures[] = {
    {"1.001193", "Đăng ký khai sinh", "Hộ tịch", kFull, true, 8, kHours, false, false, true, 8},
    {"1.000894", "Đăng ký kết hôn", "Hộ tịch", kPartial, false, 8, kHours, false, false, true, 2.5},
    {"1.000656", "Đăng ký khai tử", "Hộ tịch", kFull, true, 8, kHours, false, false, true, 2.5},
    {"1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", kFull, true, 3, kDays, true, true, true, 5},
    {"1.004884", "Đăng ký lại khai sinh", "Hộ tịch", kFull, true, 5, kDays, true, true, true, 0.5},
    {"1.004746", "Đăng ký lại kết hôn", "Hộ tịch", kPartial, false, 5, kDays, true, true, false, 0.2},
    {"1.000689", "Đăng ký khai sinh kết hợp nhận cha, mẹ, con", "Hộ tịch", kPartial, true, 3, kDays, true, true, true, 0.5},
    {"2.000635", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", kFull, true, 8, kHours, true, true, true, 4},
    {"2.000528", "Đăng ký khai sinh có yếu tố nước ngoài", "Hộ tịch", kFull, true, 3, kDays, true, true, true, 0.2},
    {"2.000806", "Đăng ký kết hôn có yếu tố nước ngoài", "Hộ tịch", kPartial, false, 10, kDays, true, true, false, 0.2},
    {"1.000593", "Đăng ký kết hôn lưu động", "Hộ tịch", kNone, false, 5, kDays, false, false, false, 0.05},
    {"1.000419", "Đăng ký khai tử lưu động", "Hộ tịch", kNone, false, 5, kDays, false, false, false, 0.05},
    {"2.001263", "Đăng ký việc nuôi con nuôi trong nước", "Nuôi con nuôi", kNone, false, 30, kDays, true, false, false, 0.1},
    {"2.000815",
     "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan tổ chức có thẩm quyền của Việt Nam cấp hoặc chứng nhận",
     "Chứng thực", kPartial, false, 8, kHours, true, true, false, 24},
    {"2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", kNone, false, 0, kHours, true, false, false, 6},
    {"2.000942", "Cấp bản sao có chứng thực từ bản chính hợp đồng, giao dịch đã được chứng thực", "Chứng thực", kFull,
     true, 2, kDays, true, true, false, 2},
    {"2.000992", "Chứng thực chữ ký người dịch mà người dịch là cộng tác viên dịch thuật", "Chứng thực", kNone, false, 8,
     kHours, true, false, false, 0.5},
    {"2.001008", "Chứng thực chữ ký người dịch mà người dịch không phải là cộng tác viên dịch thuật", "Chứng thực", kNone,
     false, 8, kHours, true, false, false, 0.5},
    {"1.004222", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", kFull, true, 7, kDays, true, true, true, 4},
    {"1.004194", "Đăng ký tạm trú", "Đăng ký, quản lý cư trú", kFull, true, 3, kDays, true, true, true, 4},
    {"1.002755", "Gia hạn tạm trú", "Đăng ký, quản lý cư trú", kFull, true, 3, kDays, true, true, true, 1},
    {"1.003197", "Xóa đăng ký thường trú", "Đăng ký, quản lý cư trú", kFull, true, 1, kDays, false, false, true, 1},
    {"1.010028", "Xóa đăng ký tạm trú", "Đăng ký, quản lý cư trú", kFull, true, 1, kDays, false, false, true, 0.5},
    {"2.000575", "Cấp lại Giấy chứng nhận đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", kFull, true,
     3, kDays, true, true, true, 0.3},
    {"2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", kFull,
     true, 3, kDays, true, true, true, 1},
    {"1.001570", "Tạm ngừng hoạt động hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", kFull, true, 3, kDays,
     false, false, true, 0.3},
    {"1.001266", "Chấm dứt hoạt động hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", kFull, true, 3, kDays,
     false, false, true, 0.3},
    {"1.012753",
     "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu tài sản gắn liền "
     "với đất lần đầu cho cá nhân, hộ gia đình, cộng đồng dân cư",
     "Đất đai", kPartial, false, 20, kDays, true, true, true, 2},
    {"1.011607", "Công nhận hộ nghèo, hộ cận nghèo thường xuyên hằng năm", "Giảm nghèo", kNone, false, 10, kDays, false,
     false, true, 0.5},
    {"1.001699", "Xác định, xác định lại mức độ khuyết tật và cấp Giấy xác nhận khuyết tật", "Bảo trợ xã hội", kPartial,
     false, 25, kDays, false, false, true, 0.3},
    {"1.001653", "Đổi, cấp lại Giấy xác nhận khuyết tật", "Bảo trợ xã hội", kFull, true, 5, kDays, false, false, true,
     0.2},
    {"1.001776",
     "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng, hỗ trợ kinh phí chăm sóc, nuôi dưỡng hằng tháng",
     "Bảo trợ xã hội", kPartial, true, 10, kDays, false, false, true, 1},
    {"2.002894", "Cho phép trường mầm non hoạt động giáo dục", "Giáo dục và Đào tạo", kPartial, false, 20, kDays, false,
     false, false, 0.05},
    {"1.001639", "Giải thể trường tiểu học (theo đề nghị của tổ chức, cá nhân đề nghị thành lập trường)",
     "Giáo dục và Đào tạo", kNone, true, 20, kDays, false, false, false, 0.02},
    {"3.000182", "Tuyển sinh trung học cơ sở", "Giáo dục và Đào tạo", kFull, true, 10, kDays, false, false, true, 1.5},
    {"1.002211", "Công nhận hòa giải viên", "Phổ biến giáo dục pháp luật", kNone, false, 3, kDays, false, false, false,
     0.05},
};
// Share of commune dossiers that go to the generated (less common) procedures.
constexpr double kGeneratedCommuneShare = 0.25;

struct TimeChoice {
  uint32_t amount;
  TimeUnit unit;
  double weight;
};
constexpr TimeChoice kCommuneTimes[] = {{0, kHours, 0.02}, {4, kHours, 0.03}, {8, kHours, 0.15}, {1, kDays, 0.08},
                                        {2, kDays, 0.07},  {3, kDays, 0.18},  {5, kDays, 0.17},  {7, kDays, 0.08},
                                        {10, kDays, 0.1},  {15, kDays, 0.07}, {20, kDays, 0.03}, {30, kDays, 0.02}};
constexpr TimeChoice kDepartmentTimes[] = {
    {0, kHours, 0.01}, {8, kHours, 0.04}, {16, kHours, 0.01}, {24, kHours, 0.01}, {1, kDays, 0.02}, {3, kDays, 0.1},
    {5, kDays, 0.15},  {7, kDays, 0.1},   {10, kDays, 0.18},  {12, kDays, 0.03},  {15, kDays, 0.14}, {20, kDays, 0.1},
    {25, kDays, 0.02}, {30, kDays, 0.06}, {45, kDays, 0.02},  {60, kDays, 0.01}};

constexpr int64_t kFees[] = {10000, 20000, 30000, 50000, 100000, 150000, 200000, 300000, 500000, 1000000, 3000000};

// ---------------------------------------------------------------------------
// Dossier mix, as shares of all dossiers unless said otherwise.

constexpr double kNotAcceptedShare = 0.01;
constexpr double kWithdrawnShare = 0.01;
constexpr double kStoppedShare = 0.002;
constexpr double kOpenShare = 0.003;
constexpr double kSupplementShare = 0.065;    // of dossiers that get resolved (scaled by the field)
constexpr double kTwoSupplementShare = 0.06;  // of those with a supplement
constexpr double kApologyShare = 0.2;         // of late dossiers
constexpr double kOnTimeShare = 0.2;          // of dossiers finished in time; the rest early
constexpr double kDeclaredShare = 0.9;        // receipts with the centre's appointment date
constexpr double kMismatchShare = 0.005;      // of those: the centre got it wrong
constexpr double kPostalShare = 0.04;         // of dossiers not filed online
constexpr double kReturnedShare = 0.92;       // of resolved dossiers
// Chance of filing online, before the province's propensity.
constexpr double kOnlineIfFull = 0.82, kOnlineIfPartial = 0.61;

constexpr const char* kNotAcceptedReasons[] = {
    "Hồ sơ không thuộc thẩm quyền giải quyết", "Thành phần hồ sơ không đúng quy định",
    "Người nộp không đủ điều kiện thực hiện thủ tục"};
constexpr const char* kSupplementReasons[] = {
    "Thiếu bản sao giấy tờ tùy thân", "Tờ khai chưa đủ thông tin", "Thiếu giấy tờ chứng minh quyền sử dụng đất",
    "Bản vẽ chưa đúng quy cách", "Cần bổ sung văn bản ủy quyền"};
constexpr const char* kReappointReasons[] = {"Cần xác minh thêm", "Chờ ý kiến của cơ quan liên quan",
                                             "Khối lượng hồ sơ lớn, cần thêm thời gian thẩm định"};
constexpr const char* kWithdrawReasons[] = {"Công dân rút hồ sơ", "Tổ chức đề nghị rút hồ sơ để hoàn thiện",
                                            "Không còn nhu cầu giải quyết"};
constexpr const char* kStopReasons[] = {"Hồ sơ không đủ điều kiện giải quyết theo quy định",
                                        "Có tranh chấp, khiếu nại liên quan"};

template <typename T, size_t N>
const T& PickOf(Rng& rng, const T (&items)[N]) {
  return items[static_cast<size_t>(rng.Below(N))];
}

// ---------------------------------------------------------------------------
// Time helpers, in Vietnam local time.

const absl::TimeZone& Tz() {
  static const absl::TimeZone tz = VietnamTimeZone();
  return tz;
}
absl::Time Start(Date d) { return absl::FromCivil(d, Tz()); }
Date Day(absl::Time t) { return Date(absl::ToCivilDay(t, Tz())); }

// Fraction `f` in [0, 1) of the office day d (08:00-12:00, 13:00-17:00).
absl::Time OfficeTime(Date d, double f) {
  const int64_t s = static_cast<int64_t>(f * 8 * 3600);
  return Start(d) + absl::Seconds(s < 4 * 3600 ? 8 * 3600 + s : 13 * 3600 + (s - 4 * 3600));
}

// The whole second at fraction `f` of [lo, hi), lo a whole second.
absl::Time Fraction(absl::Time lo, absl::Time hi, double f) {
  return lo + absl::Seconds(static_cast<int64_t>(f * static_cast<double>(absl::ToInt64Seconds(hi - lo))));
}
absl::Time Between(Rng& rng, absl::Time lo, absl::Time hi) { return Fraction(lo, hi, rng.Uniform()); }

// When citizens act on their own (filing online, rating): any day, seldom at night.
absl::Time CitizenTime(Rng& rng, absl::Time lo, absl::Time hi) {
  absl::Time t = Between(rng, lo, hi);
  for (int i = 0; i < 3; ++i) {
    const int hour = absl::ToCivilHour(t, Tz()).hour();
    if (hour >= 6 && hour < 23) break;
    t = Between(rng, lo, hi);
  }
  return t;
}

// An instant in office hours of a working day within [lo, hi); `pos` in
// [0, 1) says how far into the range's working days. None when the range
// holds no office time.
std::optional<absl::Time> PickWorkingTime(const WorkingCalendar& cal, Rng& rng, absl::Time lo, absl::Time hi,
                                          double pos) {
  if (hi <= lo) return std::nullopt;
  const Date first = cal.NextWorkingDayOnOrAfter(Day(lo));
  const int n = cal.WorkingDaysBetween(first, Day(hi - absl::Seconds(1)) + 1);
  if (n <= 0) return std::nullopt;
  const int j = std::min(n - 1, static_cast<int>(pos * n));
  for (int k : {j, j + 1, j - 1, 0, n - 1}) {
    if (k < 0 || k >= n) continue;
    const Date d = cal.AddWorkingDays(first, k);
    const absl::Time blocks[2][2] = {{Start(d) + absl::Hours(8), Start(d) + absl::Hours(12)},
                                     {Start(d) + absl::Hours(13), Start(d) + absl::Hours(17)}};
    int64_t len[2];
    absl::Time from[2];
    for (int b = 0; b < 2; ++b) {
      from[b] = std::max(lo, blocks[b][0]);
      len[b] = std::max<int64_t>(0, absl::ToInt64Seconds(std::min(hi, blocks[b][1]) - from[b]));
    }
    if (len[0] + len[1] == 0) continue;
    const int64_t x = static_cast<int64_t>(rng.Uniform() * static_cast<double>(len[0] + len[1]));
    return x < len[0] ? from[0] + absl::Seconds(x) : from[1] + absl::Seconds(x - len[0]);
  }
  return std::nullopt;
}

void AppendPadded(int64_t v, int width, std::string* out) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

// "2025-06-02T10:00:00+07:00"; events are whole seconds.
void AppendInstant(absl::Time t, std::string* out) {
  const absl::CivilSecond c = absl::ToCivilSecond(t, Tz());
  AppendPadded(c.year(), 4, out);
  out->push_back('-');
  AppendPadded(c.month(), 2, out);
  out->push_back('-');
  AppendPadded(c.day(), 2, out);
  out->push_back('T');
  AppendPadded(c.hour(), 2, out);
  out->push_back(':');
  AppendPadded(c.minute(), 2, out);
  out->push_back(':');
  AppendPadded(c.second(), 2, out);
  out->append("+07:00");
}

// ---------------------------------------------------------------------------
// Building the world.

// "P22.TANPHU" from "Tân Phú".
std::string CodePart(absl::string_view name) {
  std::string out;
  for (char c : FoldForSearch(name)) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u)) out.push_back(absl::ascii_toupper(u));
  }
  return out;
}

// "tỉnh Quảng Ninh" / "thành phố Hà Nội", to follow a department's name.
std::string LowerLead(absl::string_view province_name) {
  for (absl::string_view lead : {"Tỉnh ", "Thành phố "}) {
    if (absl::StartsWith(province_name, lead)) {
      return absl::StrCat(lead == "Tỉnh " ? "tỉnh " : "thành phố ", province_name.substr(lead.size()));
    }
  }
  return std::string(province_name);
}

Agency MakeAgency(std::string code, std::string name, AgencyLevel level, std::string parent) {
  Agency a;
  a.code = std::move(code);
  a.name = std::move(name);
  a.level = level;
  a.parent_code = std::move(parent);
  return a;
}

class WorldBuilder {
 public:
  WorldBuilder(const GenOptions& options, World* world, Index* index)
      : options_(options), world_(*world), x_(*index), rng_(Mix(options.seed ^ 0x57A7E5EEDULL)) {}

  void Build() {
    AddAgencies();
    AddStandIns();
    AddProcedures();
    BuildMenus();
    BuildDays();
  }

 private:
  struct Candidate {
    std::string name, field;
  };

  int AddSlot(Agency agency, int province, double weight, int menu, bool department) {
    world_.agencies.push_back(std::move(agency));
    internal::Slot s;
    s.agency = static_cast<int>(world_.agencies.size()) - 1;
    s.province = province;
    s.menu = menu;
    s.department = department;
    x_.slots.push_back(s);
    weights_.push_back(weight);
    return static_cast<int>(x_.slots.size()) - 1;
  }

  // A province that begins on 2025-07-01 receives no dossiers before; its
  // first unit stands in for it.
  void AddStandIns() {
    for (size_t s = 0; s < x_.slots.size(); ++s) {
      const Agency& a = world_.agencies[x_.slots[s].agency];
      if (a.level != AgencyLevel::kProvince || !a.valid_from) continue;
      for (size_t u = 0; u < x_.slots.size(); ++u) {
        if (u != s && x_.slots[u].province == x_.slots[s].province) {
          x_.slots[s].stand_in = static_cast<int>(u);
          break;
        }
      }
    }
  }

  void AddAgencies() {
    world_.agencies.push_back(MakeAgency("VN", "Việt Nam", AgencyLevel::kNation, ""));
    const int n = static_cast<int>(std::size(kProvinces));
    carriers_.assign(n, std::array<int, kDepartmentSectors>{});
    // Provinces first, as in the reference file, then each one's subtree.
    std::vector<double> volume(n);
    for (int p = 0; p < n; ++p) {
      const ProvinceSpec& spec = kProvinces[p];
      Agency a = MakeAgency(spec.code, spec.name, AgencyLevel::kProvince, "VN");
      a.admin_code = spec.admin_code;
      if (spec.merged) a.valid_from = Date(2025, 7, 1);
      volume[p] = spec.population * (0.85 + 0.3 * rng_.Uniform());
      // The province's own People's Committee decides a few procedures.
      AddSlot(std::move(a), p, volume[p] * 0.01, kProvinceMenu, false);
      internal::ProvinceInfo info;
      const bool big_city = p == 0 || absl::string_view(spec.code) == "P79" || absl::string_view(spec.code) == "P48" ||
                            absl::string_view(spec.code) == "P22";
      info.online = std::min(1.12, 0.8 + 0.3 * rng_.Uniform() + (big_city ? 0.1 : 0));
      const double u = rng_.Uniform();
      info.late = 0.02 + 0.09 * u * u;
      info.digitised = 0.45 + 0.3 * rng_.Uniform();
      x_.provinces.push_back(info);
    }
    int admin = 1;
    for (int p = 0; p < n; ++p) {
      const ProvinceSpec& spec = kProvinces[p];
      const std::string suffix = LowerLead(spec.name);
      const bool tourism = std::find_if(std::begin(kTourismProvinces), std::end(kTourismProvinces), [&](const char* c) {
                             return absl::string_view(c) == spec.code;
                           }) != std::end(kTourismProvinces);
      // Departments: a quarter of the province's dossiers.
      std::array<int, kDepartmentSectors> present{};
      std::vector<std::pair<int, double>> departments;  // slot, raw weight
      for (int s = 0; s < kDepartmentSectors; ++s) {
        const DepartmentSpec& d = kDepartments[s];
        const bool here = s == kDL ? tourism : rng_.Chance(d.presence);
        present[s] = here ? 1 : 0;
        if (!here) continue;
        std::string code = d.code, name = d.name;
        if (s == kVH && tourism) {
          code = "SVHTT";
          name = "Sở Văn hóa và Thể thao";
        }
        const int slot = AddSlot(MakeAgency(absl::StrCat(spec.code, ".", code), absl::StrCat(name, " ", suffix),
                                            AgencyLevel::kDepartment, spec.code),
                                 p, 0, -1, true);
        carriers_[p][s] = slot;
        departments.emplace_back(slot, d.dossiers * rng_.LogNormal(0.3));
      }
      for (int s = 0; s < kDepartmentSectors; ++s) {
        if (!present[s]) carriers_[p][s] = carriers_[p][kDepartments[s].fallback];
      }
      double total = 0;
      for (const auto& [slot, w] : departments) total += w;
      for (const auto& [slot, w] : departments) weights_[slot] = volume[p] * 0.24 * w / total;
      // Communes: three quarters, unevenly.
      std::vector<std::string> zones;
      for (const auto& [province, zone] : kSpecialZones) {
        if (province == absl::string_view(spec.code)) zones.emplace_back(zone);
      }
      absl::flat_hash_set<std::string> codes;
      std::vector<std::pair<int, double>> communes;
      for (int c = 0; c < spec.communes; ++c) {
        std::string base, kind = "Xã ";
        double w = rng_.LogNormal(0.7);
        if (c < static_cast<int>(zones.size())) {
          base = zones[c];
          kind = "Đặc khu ";
          w *= 0.5;
        } else {
          const size_t n_syllables = std::size(kSyllables);
          const size_t a = static_cast<size_t>(rng_.Below(n_syllables));
          const size_t b = (a + 1 + static_cast<size_t>(rng_.Below(n_syllables - 1))) % n_syllables;
          base = absl::StrCat(kSyllables[a], " ", kSyllables[b]);
          if (rng_.Chance(spec.wards)) {
            kind = "Phường ";
            w *= 1.6;
          }
        }
        std::string name = base, code = absl::StrCat(spec.code, ".", CodePart(base));
        for (int k = 2; !codes.insert(code).second; ++k) {
          name = absl::StrCat(base, " ", k);
          code = absl::StrCat(spec.code, ".", CodePart(base), k);
        }
        Agency a = MakeAgency(std::move(code), absl::StrCat(kind, name), AgencyLevel::kCommune, spec.code);
        AppendPadded(admin, 5, &a.admin_code);
        admin += 1 + static_cast<int>(rng_.Below(9));
        communes.emplace_back(AddSlot(std::move(a), p, 0, kCommuneMenu, false), w);
      }
      total = 0;
      for (const auto& [slot, w] : communes) total += w;
      for (const auto& [slot, w] : communes) weights_[slot] = volume[p] * 0.75 * w / total;
    }
    // Integer weights summing to about 2^30, so that the per-day arithmetic
    // of DossierEvents stays exact in 64 bits.
    double sum = 0;
    for (double w : weights_) sum += w;
    x_.cum.assign(1, 0);
    for (double w : weights_) {
      x_.cum.push_back(x_.cum.back() + std::max<int64_t>(1, static_cast<int64_t>(w / sum * (1 << 30))));
    }
    x_.total_weight = x_.cum.back();
  }

  // A code D.DDDDDD not used yet, in the ranges the national database uses.
  std::string NewCode() {
    for (;;) {
      const double u = rng_.Uniform();
      const int prefix = u < 0.62 ? 1 : u < 0.95 ? 2 : 3;
      const int64_t span = prefix == 1 ? 14900 : prefix == 2 ? 2900 : 400;
      std::string code = absl::StrCat(prefix, ".");
      AppendPadded(100 + rng_.Below(span), 6, &code);
      if (codes_.insert(code).second) return code;
    }
  }

  // `n` procedure names of a sector, each name used once before variants.
  std::vector<Candidate> Names(Sector sector, int n) {
    std::vector<Candidate> base;
    for (const FieldSpec& f : kFields) {
      if (f.sector != sector) continue;
      for (absl::string_view item : absl::StrSplit(f.items, '|')) {
        if (absl::ConsumePrefix(&item, "=")) {
          base.push_back({std::string(item), f.field});
          continue;
        }
        for (const char* verb : kVerbs) base.push_back({absl::StrCat(verb, " ", item), f.field});
      }
    }
    rng_.Shuffle(base);
    std::vector<Candidate> out;
    for (int round = 0; static_cast<int>(out.size()) < n; ++round) {
      for (const Candidate& c : base) {
        if (static_cast<int>(out.size()) == n) break;
        out.push_back(
            round == 0 ? c
                       : Candidate{absl::StrCat(
                                       c.name, kVariants[(round - 1) % std::size(kVariants)],
                                       round > static_cast<int>(std::size(kVariants)) ? absl::StrCat(" ", round) : ""),
                                   c.field});
      }
    }
    return out;
  }

  void AddProcedure(Procedure p, Sector sector, double popularity, int64_t fee) {
    p.Normalize();
    internal::ProcedureInfo info;
    info.fee_vnd = p.fee_bearing ? fee : 0;
    info.obligation = p.fee_bearing && p.field == "Đất đai";
    info.supplement = p.field == "Đất đai" || p.field == "Xây dựng"     ? 2.0
                      : p.field == "Hộ tịch" || p.field == "Chứng thực" ? 0.4
                                                                        : 1.0;
    world_.procedures.push_back(std::move(p));
    x_.procedures.push_back(info);
    sectors_.push_back(sector);
    popularity_.push_back(popularity);
  }

  // Generated procedures of a sector, with Zipf popularity summing to `volume`.
  void AddSector(Sector sector, int n, double volume) {
    if (n <= 0) return;
    const bool commune = sector == kCommune;
    std::vector<double> zipf(n);
    double total = 0;
    for (int i = 0; i < n; ++i) total += zipf[i] = 1.0 / (i + 1);
    rng_.Shuffle(zipf);
    int i = 0;
    for (Candidate& c : Names(sector, n)) {
      Procedure p;
      p.code = NewCode();
      p.name = std::move(c.name);
      p.field = std::move(c.field);
      if (commune) {
        p.levels = {AgencyLevel::kCommune};
      } else if (sector == kProvinceLevel) {
        p.levels = {AgencyLevel::kProvince};
      } else {
        for (const auto& carriers : carriers_) {
          p.agency_codes.push_back(world_.agencies[x_.slots[carriers[sector]].agency].code);
        }
      }
      // About 55% full, 25% partial, 20% none (cf. Quảng Ninh 2022: 78% online, 77% of them full).
      const double full = sector == kCA || sector == kTC ? 0.72 : sector == kTTR ? 0.2 : 0.55;
      const double u = rng_.Uniform();
      p.online_mode = u < full                       ? OnlineMode::kFull
                      : u < full + (1 - full) * 0.55 ? OnlineMode::kPartial
                                                     : OnlineMode::kNone;
      p.full_online_eligible =
          p.online_mode == OnlineMode::kFull || rng_.Chance(p.online_mode == OnlineMode::kPartial ? 0.45 : 0.12);
      const TimeChoice& t =
          commune ? kCommuneTimes[rng_.Pick(kCommuneTimes)] : kDepartmentTimes[rng_.Pick(kDepartmentTimes)];
      p.resolution_amount = t.amount;
      p.resolution_unit = t.unit;
      p.fee_bearing = sector != kTTR && rng_.Chance(commune ? 0.35 : sector == kCA ? 0.8 : 0.55);
      p.online_payment_integrated = p.fee_bearing && rng_.Chance(p.online_mode == OnlineMode::kNone ? 0.4 : 0.8);
      p.population_db_connected =
          rng_.Chance(sector == kCA                                                               ? 0.9
                      : commune && (p.field == "Hộ tịch" || p.field == "Đăng ký, quản lý cư trú") ? 0.8
                      : commune                                                                   ? 0.4
                                                                                                  : 0.25);
      const int64_t fee = kFees[static_cast<size_t>(std::min<int64_t>(
          std::size(kFees) - 1, rng_.Below(commune ? 6 : 9) + (sector == kNNMT || sector == kXD ? 2 : 0)))];
      AddProcedure(std::move(p), sector, volume * zipf[i++] / total, fee);
    }
  }

  void AddProcedures() {
    const int total = options_.procedures;
    // Communes carry about a quarter of the catalog, provinces' People's
    // Committees 1.5%, departments the rest.
    double known = 0;
    for (const KnownProcedure& k : kKnownCommuneProcedures) {
      codes_.insert(k.code);
      known += k.dossiers;
    }
    for (const KnownProcedure& k : kKnownCommuneProcedures) {
      Procedure p;
      p.code = k.code;
      p.name = k.name;
      p.field = k.field;
      p.levels = {AgencyLevel::kCommune};
      p.online_mode = k.mode;
      p.full_online_eligible = k.eligible;
      p.resolution_amount = k.time;
      p.resolution_unit = k.unit;
      p.fee_bearing = k.fee;
      p.online_payment_integrated = k.online_payment;
      p.population_db_connected = k.population_db;
      AddProcedure(std::move(p), kCommune, k.dossiers, k.fee ? kFees[rng_.Below(4)] : 0);
    }
    const int communes =
        std::max(1, static_cast<int>(total * 0.24) - static_cast<int>(std::size(kKnownCommuneProcedures)));
    AddSector(kCommune, communes, known * kGeneratedCommuneShare / (1 - kGeneratedCommuneShare));
    const int provincial = std::max(1, static_cast<int>(total * 0.015));
    AddSector(kProvinceLevel, provincial, 1);
    const int left = total - static_cast<int>(world_.procedures.size());
    double shares = 0;
    for (const DepartmentSpec& d : kDepartments) shares += d.procedures;
    int given = 0;
    for (int s = 0; s < kDepartmentSectors; ++s) {
      const int n = s + 1 == kDepartmentSectors
                        ? left - given
                        : static_cast<int>(std::lround(left * kDepartments[s].procedures / shares));
      given += n;
      AddSector(static_cast<Sector>(s), n, 1);
    }
  }

  void BuildMenus() {
    x_.menus.resize(2);  // kCommuneMenu, kProvinceMenu
    auto add = [&](int menu, int procedure) {
      internal::Menu& m = x_.menus[menu];
      m.procedures.push_back(procedure);
      m.cum.push_back((m.cum.empty() ? 0 : m.cum.back()) + popularity_[procedure]);
    };
    for (size_t i = 0; i < world_.procedures.size(); ++i) {
      const int proc = static_cast<int>(i);
      if (sectors_[i] == kCommune) {
        add(kCommuneMenu, proc);
      } else if (sectors_[i] == kProvinceLevel) {
        add(kProvinceMenu, proc);
      } else {
        for (const auto& carriers : carriers_) {
          internal::Slot& slot = x_.slots[carriers[sectors_[i]]];
          if (slot.menu < 0) {
            slot.menu = static_cast<int>(x_.menus.size());
            x_.menus.emplace_back();
          }
          add(slot.menu, proc);
        }
      }
    }
    // A department that carries nothing (possible with tiny catalogs) gets no dossiers.
    for (size_t a = 0; a < x_.slots.size(); ++a) {
      if (x_.slots[a].menu >= 0) continue;
      x_.slots[a].menu = kCommuneMenu;
      const int64_t w = x_.cum[a + 1] - x_.cum[a];
      for (size_t b = a + 1; b < x_.cum.size(); ++b) x_.cum[b] -= w;
    }
    x_.total_weight = x_.cum.back();
  }

  // Receipt days and how many dossiers each gets: busier on Mondays and
  // before Tết, quieter on make-up Saturdays, after Tết and in August.
  void BuildDays() {
    const WorkingCalendar& cal = *x_.calendar;
    std::vector<int64_t> weight;
    for (Date d(options_.year, 1, 1); d.year() == options_.year; ++d) {
      if (!cal.IsWorkingDay(d)) continue;
      double w = 1;
      switch (absl::GetWeekday(d)) {
        case absl::Weekday::monday: w = 1.15; break;
        case absl::Weekday::friday: w = 0.95; break;
        case absl::Weekday::saturday:
        case absl::Weekday::sunday: w = 0.7; break;
        default: break;
      }
      constexpr double kMonth[12] = {1.15, 0.85, 1.0, 1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0, 1.05, 1.1};
      w *= kMonth[d.month() - 1] * (0.92 + 0.16 * rng_.Uniform());
      x_.days.push_back(d);
      weight.push_back(static_cast<int64_t>(w * 1000000));
    }
    int64_t total = 0;
    for (int64_t w : weight) total += w;
    x_.day_start.assign(1, 0);
    int64_t acc = 0;
    for (int64_t w : weight) {
      acc += w;
      x_.day_start.push_back(static_cast<int64_t>(static_cast<__int128>(options_.dossiers) * acc / total));
      x_.day_phase.push_back(rng_.Below(x_.total_weight));
    }
  }

  static constexpr int kCommuneMenu = 0, kProvinceMenu = 1;

  const GenOptions& options_;
  World& world_;
  Index& x_;
  Rng rng_;
  std::vector<double> weights_;                                // per slot, before scaling
  std::vector<std::array<int, kDepartmentSectors>> carriers_;  // per province and sector: the slot carrying it
  absl::flat_hash_set<std::string> codes_;
  std::vector<Sector> sectors_;     // per procedure
  std::vector<double> popularity_;  // per procedure
};

}  // namespace

void GenTotals::Add(const GenTotals& o) {
  dossiers += o.dossiers;
  events += o.events;
  received += o.received;
  in_person += o.in_person;
  online += o.online;
  postal += o.postal;
  not_accepted += o.not_accepted;
  withdrawn += o.withdrawn;
  stopped += o.stopped;
  open += o.open;
  resolved += o.resolved;
  early += o.early;
  on_time += o.on_time;
  late += o.late;
  returned += o.returned;
  supplemented += o.supplemented;
  two_supplements += o.two_supplements;
  reappointed += o.reappointed;
  declared += o.declared;
  declared_mismatch += o.declared_mismatch;
  fee_bearing += o.fee_bearing;
  paid += o.paid;
  paid_online += o.paid_online;
  digitised += o.digitised;
  feedback += o.feedback;
  satisfied += o.satisfied;
  complaints += o.complaints;
}

absl::Status ValidateOptions(const GenOptions& o) {
  if (o.dossiers < 0 || o.dossiers > kMaxDossiers) {
    return InvalidField("dossiers", absl::StrCat(o.dossiers, " is out of range 0..", kMaxDossiers));
  }
  if (o.year < 2000 || o.year > 2098) return InvalidField("year", absl::StrCat(o.year, " is out of range 2000..2098"));
  if (o.procedures < kMinProcedures || o.procedures > kMaxProcedures) {
    return InvalidField("procedures",
                        absl::StrCat(o.procedures, " is out of range ", kMinProcedures, "..", kMaxProcedures));
  }
  return absl::OkStatus();
}

World MakeWorld(const GenOptions& options) {
  World world;
  auto index = std::make_shared<Index>();
  index->calendar =
      options.calendar ? options.calendar : std::make_shared<const WorkingCalendar>(WorkingCalendar::RulesOnly());
  WorldBuilder(options, &world, index.get()).Build();
  world.index = std::move(index);
  return world;
}

void DossierEvents(const GenOptions& options, const World& world, int64_t index, std::vector<FilingEvent>* out,
                   GenTotals* totals) {
  const Index& x = *world.index;
  if (index < 0 || index >= x.day_start.back()) {
    // A programming error (the world was made for fewer dossiers): the
    // dossier would get no receipt day.
    std::fprintf(stderr, "pstrack::gen::DossierEvents: index %lld outside the world's %lld dossiers\n",
                 static_cast<long long>(index), static_cast<long long>(x.day_start.back()));
    std::abort();
  }
  const WorkingCalendar& cal = *x.calendar;
  Rng rng(Mix(options.seed * 0x2545F4914F6CDD1DULL ^ Mix(static_cast<uint64_t>(index))));

  // The receipt day, the agency, and the dossier's number in that agency's
  // day: the day's dossiers are dealt to agencies in proportion to their
  // weight, from a phase that changes every day.
  const size_t k =
      static_cast<size_t>(std::upper_bound(x.day_start.begin(), x.day_start.end(), index) - x.day_start.begin() - 1);
  const int64_t r = index - x.day_start[k], per_day = x.day_start[k + 1] - x.day_start[k];
  const int64_t phase = x.day_phase[k], threshold = (r + 1) * x.total_weight - phase;
  const size_t a = static_cast<size_t>(
      std::partition_point(x.cum.begin(), x.cum.end(), [&](int64_t c) { return c * per_day < threshold; }) -
      x.cum.begin() - 1);
  const int64_t first = (x.cum[a] * per_day + phase) / x.total_weight;
  const int64_t count = (x.cum[a + 1] * per_day + phase) / x.total_weight - first;
  const Date day = x.days[k];
  const int64_t seq = r - first + 1;
  int64_t number = seq;  // in the dossier code
  const internal::Slot* dealt = &x.slots[a];
  const Agency* dealt_agency = &world.agencies[dealt->agency];
  // A week's margin: an online registration comes up to three days before
  // the receipt, and must find the agency in force too.
  if (dealt_agency->valid_from && day < *dealt_agency->valid_from + 7 && dealt->stand_in >= 0) {
    // Numbered apart from the stand-in's own dossiers of the day.
    dealt = &x.slots[dealt->stand_in];
    number += 90000;
  }
  const internal::Slot& slot = *dealt;
  const Agency& agency = world.agencies[slot.agency];
  const internal::ProvinceInfo& province = x.provinces[slot.province];

  const internal::Menu& menu = x.menus[slot.menu];
  const size_t pick =
      std::min(menu.procedures.size() - 1,
               static_cast<size_t>(std::upper_bound(menu.cum.begin(), menu.cum.end(), rng.Uniform() * menu.cum.back()) -
                                   menu.cum.begin()));
  const int proc = menu.procedures[pick];
  const Procedure& p = world.procedures[proc];
  const internal::ProcedureInfo& info = x.procedures[proc];

  std::string code = absl::StrCat(agency.code, "-");
  AppendPadded(day.year() % 100, 2, &code);
  AppendPadded(day.month(), 2, &code);
  AppendPadded(day.day(), 2, &code);
  code.push_back('-');
  AppendPadded(number, 4, &code);

  const size_t begin = out->size();
  auto add = [&](K kind, absl::Time at) -> FilingEvent& {
    FilingEvent& e = out->emplace_back();
    e.dossier_code = code;
    e.agency_code = agency.code;
    e.occurred_at = at;
    e.kind = kind;
    return e;
  };
  GenTotals t;
  t.dossiers = 1;

  // Receipts in the agency's day follow their numbers.
  const absl::Time receipt =
      OfficeTime(day, (static_cast<double>(seq - 1) + rng.Uniform()) / static_cast<double>(count));
  double online_chance = p.online_mode == OnlineMode::kFull      ? kOnlineIfFull
                         : p.online_mode == OnlineMode::kPartial ? kOnlineIfPartial
                                                                 : 0;
  online_chance = std::min(0.97, online_chance * province.online);
  const Channel channel = rng.Chance(online_chance)  ? Channel::kOnline
                          : rng.Chance(kPostalShare) ? Channel::kPostal
                                                     : Channel::kInPerson;
  const bool online = channel == Channel::kOnline;
  // Submitted on the portal from minutes to a few days before the centre takes it in.
  const absl::Time registered =
      CitizenTime(rng, receipt - absl::Hours(rng.Chance(0.6) ? 4 : 72), receipt - absl::Seconds(300));
  if (online) add(K::kRegisteredOnline, registered).procedure_code = p.code;

  enum class Plan { kNotAccepted, kWithdrawn, kStopped, kOpen, kResolved };
  const double u = rng.Uniform();
  const Plan plan = u < kNotAcceptedShare                                                  ? Plan::kNotAccepted
                    : u < kNotAcceptedShare + kWithdrawnShare                              ? Plan::kWithdrawn
                    : u < kNotAcceptedShare + kWithdrawnShare + kStoppedShare              ? Plan::kStopped
                    : u < kNotAcceptedShare + kWithdrawnShare + kStoppedShare + kOpenShare ? Plan::kOpen
                                                                                           : Plan::kResolved;
  if (plan == Plan::kNotAccepted) {
    FilingEvent& e = add(K::kNotAccepted, receipt);
    if (!online) e.procedure_code = p.code;
    e.reason = PickOf(rng, kNotAcceptedReasons);
    t.not_accepted = 1;
  } else {
    t.received = 1;
    (online ? t.online : channel == Channel::kPostal ? t.postal : t.in_person) = 1;
    const Appointment first_app = ComputeAppointment(receipt, p.resolution_amount, p.resolution_unit, cal);
    {
      FilingEvent& e = add(K::kReceived, receipt);
      e.procedure_code = p.code;
      e.channel = channel;
      if (rng.Chance(kDeclaredShare)) {
        t.declared = 1;
        e.declared_appointment = first_app.appointment_date;
        if (rng.Chance(kMismatchShare)) {
          t.declared_mismatch = 1;
          e.declared_appointment = cal.AddWorkingDays(first_app.appointment_date, 1);
        }
      }
    }
    const bool digitised = rng.Chance(province.digitised);
    if (digitised) {
      t.digitised = 1;
      FilingEvent& e = add(K::kDigitised, receipt + absl::Seconds(60 + rng.Below(900)));
      e.digitised_documents = true;
      e.reused_data = rng.Chance(0.35);
      e.population_db_used = p.population_db_connected && rng.Chance(0.8);
      e.shared_for_reuse = rng.Chance(0.45);
    }
    const bool pays_online = p.online_payment_integrated && rng.Chance(online ? 0.6 : 0.1);
    auto pay = [&](absl::Time at, int64_t amount) {
      FilingEvent& e = add(K::kPayment, at);
      e.amount_vnd = amount;
      e.paid_online = pays_online;
      t.paid = 1;
      t.paid_online = pays_online ? 1 : 0;
    };
    if (p.fee_bearing) t.fee_bearing = 1;
    // Fees are paid when the dossier is filed; land dossiers pay the
    // financial obligation assessed during processing instead.
    if (p.fee_bearing && !info.obligation) {
      pay(online && pays_online ? registered + absl::Seconds(60 + rng.Below(600))
                                : receipt + absl::Seconds(120 + rng.Below(1080)),
          info.fee_vnd);
    }
    const absl::Time after_receipt = receipt + absl::Seconds(1800);  // past the fee and digitisation

    if (plan != Plan::kResolved) {
      // Processing starts; then the applicant withdraws, the agency stops, or nothing yet.
      const absl::Time end =
          PickWorkingTime(cal, rng, after_receipt + absl::Hours(1),
                          std::max(first_app.due_time, after_receipt + absl::Hours(2)), rng.Uniform())
              .value_or(after_receipt + absl::Hours(1));
      add(K::kProcessingStarted, PickWorkingTime(cal, rng, after_receipt, end, 0.2 * rng.Uniform())
                                     .value_or(Between(rng, after_receipt, end)));
      if (plan == Plan::kWithdrawn) {
        add(K::kWithdrawn, end).reason = PickOf(rng, kWithdrawReasons);
        t.withdrawn = 1;
      } else if (plan == Plan::kStopped) {
        add(K::kStopped, end).reason = PickOf(rng, kStopReasons);
        t.stopped = 1;
      } else {
        t.open = 1;
      }
      if (plan != Plan::kOpen && rng.Chance(0.03)) {
        add(K::kFeedback, CitizenTime(rng, end + absl::Seconds(600), end + absl::Hours(24))).rating = Rating::kNeutral;
        t.feedback = 1;
      }
    } else {
      // Supplements: requested within the statutory time, completed some
      // working days later; the clock restarts from each completion.
      Appointment app = first_app;
      absl::Time clock = receipt;  // the last (re)start of the clock
      int supplements = 0;
      std::optional<absl::Time> first_request;
      if (p.resolution_amount > 0 && rng.Chance(kSupplementShare * info.supplement)) {
        const int wanted = rng.Chance(kTwoSupplementShare) ? 2 : 1;
        for (int i = 0; i < wanted; ++i) {
          const absl::Time lo = std::max(clock, after_receipt) + absl::Seconds(600);
          auto request =
              PickWorkingTime(cal, rng, lo, std::min(app.due_time, lo + absl::Hours(72)), 0.3 * rng.Uniform());
          if (!request) break;
          const Date back = cal.AddWorkingDays(Day(*request), 1 + static_cast<int>(rng.Below(8)));
          const absl::Time completed = OfficeTime(back, rng.Uniform());
          add(K::kSupplementRequested, *request).reason = PickOf(rng, kSupplementReasons);
          add(K::kSupplementReceived, completed);
          if (!first_request) first_request = *request;
          clock = completed;
          app = ComputeAppointment(completed, p.resolution_amount, p.resolution_unit, cal);
          ++supplements;
        }
      }
      t.supplemented = supplements > 0 ? 1 : 0;
      t.two_supplements = supplements > 1 ? 1 : 0;

      // The resolution: early, on time or late against the appointment date
      // (Circular 01/2018 Art. 13); an outcome with no room falls to the next.
      const absl::Time lo = std::max(clock, after_receipt) + absl::Seconds(600);
      const absl::Time day_start = Start(app.appointment_date);
      const double late_share = province.late * (slot.department ? 1.4 : 0.85);
      int outcome = rng.Chance(late_share) ? 2 : rng.Chance(kOnTimeShare) ? 1 : 0;  // early, on time, late
      std::optional<absl::Time> resolved;
      const double speed = (rng.Uniform() + rng.Uniform()) / 2;
      if (outcome == 0) {
        resolved = PickWorkingTime(cal, rng, lo, day_start, speed);
        if (!resolved) outcome = 1;
      }
      if (outcome == 1) {
        resolved = PickWorkingTime(cal, rng, std::max(lo, day_start), app.due_time, rng.Uniform());
        if (!resolved) outcome = 2;
      }
      if (outcome == 2) {
        int overrun = 1;
        while (overrun < 30 && rng.Chance(0.65)) ++overrun;
        const Date late_day = cal.AddWorkingDays(app.appointment_date, overrun);
        const absl::Time from = std::max(lo, app.due_time);
        resolved =
            PickWorkingTime(cal, rng, std::max(from, Start(late_day)), Start(late_day) + absl::Hours(24), rng.Uniform())
                .value_or(from + absl::Hours(1));
      }
      (outcome == 0 ? t.early : outcome == 1 ? t.on_time : t.late) = 1;
      t.resolved = 1;
      const absl::Time done = *resolved;

      // Processing starts before the first supplement request or the resolution.
      const absl::Time next = first_request.value_or(done);
      add(K::kProcessingStarted, PickWorkingTime(cal, rng, after_receipt, next, 0.15 * rng.Uniform())
                                     .value_or(Fraction(after_receipt, next, 0.05 + 0.2 * rng.Uniform())));
      if (info.obligation) {
        // Land-use levies and registration fees: a multiple of the filing fee.
        const int64_t amount = info.fee_vnd * (10 + rng.Below(191));
        const absl::Time assessed =
            PickWorkingTime(cal, rng, lo, done, 0.3 + 0.1 * rng.Uniform()).value_or(Fraction(lo, done, 0.3));
        add(K::kFinancialObligationRequested, assessed).amount_vnd = amount;
        pay(PickWorkingTime(cal, rng, assessed, done, 0.5).value_or(Fraction(assessed, done, 0.5)), amount);
      }
      // The apology letter with a new date, due the day before the
      // appointment date; when there is no room it comes late.
      if (outcome == 2 && rng.Chance(kApologyShare)) {
        auto when = PickWorkingTime(cal, rng, lo, std::min(done, day_start), 0.8);
        if (!when && done > lo) when = Between(rng, lo, done);
        if (when) {
          const Date base = std::max(app.appointment_date, Day(done));
          FilingEvent& e = add(K::kReappointed, *when);
          e.new_appointment =
              cal.AddWorkingDays(base, (base == app.appointment_date ? 1 : 0) + static_cast<int>(rng.Below(2)));
          e.reason = PickOf(rng, kReappointReasons);
          t.reappointed = 1;
        }
      }
      {
        FilingEvent& e = add(K::kResolved, done);
        const double electronic = p.online_mode == OnlineMode::kFull      ? 0.9
                                  : p.online_mode == OnlineMode::kPartial ? 0.6
                                                                          : 0.3;
        e.electronic_result = rng.Chance(electronic);
        e.processed_electronically = rng.Chance(0.9);
        e.signed_electronically = e.electronic_result && rng.Chance(0.85);
      }
      absl::Time last = done;
      if (digitised && rng.Chance(0.9)) {
        add(K::kDigitised, done + absl::Seconds(60 + rng.Below(1800))).digitised_result = true;
      }
      if (rng.Chance(kReturnedShare)) {
        const bool remote = channel != Channel::kInPerson && rng.Chance(0.85);
        last = remote ? done + absl::Seconds(60 + rng.Below(7200))
                      : PickWorkingTime(cal, rng, done + absl::Seconds(300),
                                        Start(cal.AddWorkingDays(Day(done), 3) + 1), rng.Uniform())
                            .value_or(done + absl::Seconds(600));
        add(K::kResultReturned, last).returned_remotely = remote;
        t.returned = 1;
      }
      if (rng.Chance(online ? 0.25 : 0.12)) {
        FilingEvent& e = add(K::kFeedback, CitizenTime(rng, last + absl::Seconds(600), last + absl::Hours(72)));
        const double v = rng.Uniform();
        if (outcome == 2) {
          e.rating = v < 0.25   ? Rating::kVerySatisfied
                     : v < 0.6  ? Rating::kSatisfied
                     : v < 0.75 ? Rating::kNeutral
                                : Rating::kDissatisfied;
        } else {
          e.rating = v < 0.5    ? Rating::kVerySatisfied
                     : v < 0.93 ? Rating::kSatisfied
                     : v < 0.98 ? Rating::kNeutral
                                : Rating::kDissatisfied;
        }
        e.complaint = e.rating == Rating::kDissatisfied && rng.Chance(0.35);
        t.feedback = 1;
        t.satisfied = e.rating == Rating::kVerySatisfied || e.rating == Rating::kSatisfied ? 1 : 0;
        t.complaints = e.complaint ? 1 : 0;
      }
    }
  }

  // Replay order, then ids in that order.
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(begin), out->end(),
            [](const FilingEvent& l, const FilingEvent& r) {
              return l.occurred_at != r.occurred_at ? l.occurred_at < r.occurred_at : l.kind < r.kind;
            });
  for (size_t i = begin; i < out->size(); ++i) {
    FilingEvent& e = (*out)[i];
    e.event_id.reserve(code.size() + 3);
    e.event_id.append(code).push_back('/');
    AppendPadded(static_cast<int64_t>(i - begin + 1), 1, &e.event_id);
  }
  t.events = static_cast<int64_t>(out->size() - begin);
  if (totals) totals->Add(t);
}

// ---------------------------------------------------------------------------
// CSV files.

std::string AgencyCsv(const std::vector<Agency>& agencies) {
  std::string out = "code,name,level,parent_code,admin_code,valid_from,valid_until,successor_code\n";
  for (const Agency& a : agencies) {
    absl::StrAppend(&out, CsvEscape(a.code), ",", CsvEscape(a.name), ",", AgencyLevelName(a.level), ",",
                    CsvEscape(a.parent_code), ",", CsvEscape(a.admin_code), ",", FormatOptionalDate(a.valid_from), ",",
                    FormatOptionalDate(a.valid_until), ",", CsvEscape(a.successor_code), "\n");
  }
  return out;
}

std::string ProcedureCsv(const std::vector<Procedure>& procedures) {
  std::string out =
      "code,name,field,levels,agency_codes,online_mode,full_online_eligible,resolution_time,resolution_unit,"
      "fee_bearing,online_payment_integrated,population_db_connected,valid_from,valid_until\n";
  auto flag = [](bool b) { return b ? "true" : "false"; };
  for (const Procedure& p : procedures) {
    std::vector<absl::string_view> levels;
    for (AgencyLevel l : p.levels) levels.push_back(AgencyLevelName(l));
    absl::StrAppend(&out, CsvEscape(p.code), ",", CsvEscape(p.name), ",", CsvEscape(p.field), ",",
                    absl::StrJoin(levels, ";"), ",", CsvEscape(absl::StrJoin(p.agency_codes, ";")), ",",
                    OnlineModeName(p.online_mode), ",", flag(p.full_online_eligible), ",", p.resolution_amount, ",",
                    TimeUnitName(p.resolution_unit), ",", flag(p.fee_bearing), ",", flag(p.online_payment_integrated),
                    ",", flag(p.population_db_connected), ",", FormatOptionalDate(p.valid_from), ",",
                    FormatOptionalDate(p.valid_until), "\n");
  }
  return out;
}

const char kEventCsvHeader[] =
    "event_id,dossier_code,agency_code,procedure_code,occurred_at,kind,channel,declared_appointment_date,"
    "new_appointment_date,reason,amount_vnd,online,electronic_result,processed_electronically,signed_electronically,"
    "returned_remotely,documents,result,reused_data,population_db_used,shared_for_reuse,rating,complaint\n";

void AppendEventCsv(const FilingEvent& e, std::string* out) {
  auto date = [&](const OptionalDate& d) {
    if (!d) return;
    AppendPadded(d->year(), 4, out);
    out->push_back('-');
    AppendPadded(d->month(), 2, out);
    out->push_back('-');
    AppendPadded(d->day(), 2, out);
  };
  auto flag = [&](bool b) { out->append(b ? ",true" : ","); };
  out->append(CsvEscape(e.event_id)).push_back(',');
  out->append(CsvEscape(e.dossier_code)).push_back(',');
  out->append(CsvEscape(e.agency_code)).push_back(',');
  out->append(e.procedure_code).push_back(',');
  AppendInstant(e.occurred_at, out);
  out->push_back(',');
  absl::StrAppend(out, EventKindName(e.kind), ",");
  if (e.channel != Channel::kUnspecified) absl::StrAppend(out, ChannelName(e.channel));
  out->push_back(',');
  date(e.declared_appointment);
  out->push_back(',');
  date(e.new_appointment);
  out->push_back(',');
  out->append(CsvEscape(e.reason)).push_back(',');
  if (e.amount_vnd != 0) absl::StrAppend(out, e.amount_vnd);
  flag(e.paid_online);
  flag(e.electronic_result);
  flag(e.processed_electronically);
  flag(e.signed_electronically);
  flag(e.returned_remotely);
  flag(e.digitised_documents);
  flag(e.digitised_result);
  flag(e.reused_data);
  flag(e.population_db_used);
  flag(e.shared_for_reuse);
  out->push_back(',');
  if (e.rating != Rating::kUnspecified) absl::StrAppend(out, RatingName(e.rating));
  flag(e.complaint);
  out->push_back('\n');
}

}  // namespace pstrack::gen
