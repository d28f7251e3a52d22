// The one translation unit that compiles stb_image and stb_image_write (third-party single-header libraries from
// Debian's libstb-dev). Compiled without our warning flags: the warnings would be stb's, not ours.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
#include <stb_image.h>
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
